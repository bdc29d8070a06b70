#!/usr/bin/env bash
# base-images.sh: the two base images the Dockerfile names, built from Debian's
# own packages because Docker Hub is not reachable here:
#   node:<v>-<release>-slim  debootstrap minbase + this machine's Node.js
#   node:<v>-<release>       the same + g++, make, python3-pip, npm, Node headers
# Both are cached in the daemon's image store; an existing tag is kept.
# The mirror is the one this machine's apt uses; this machine's CA bundle
# (and its extra CAs) go into the images so TLS to the registries works
# wherever the machine's own does.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

have() { docker image inspect "$1" >/dev/null 2>&1; }
if have "$BASE_SLIM" && have "$BASE_FULL"; then say "base images $BASE_SLIM, $BASE_FULL cached"; exit 0; fi

NODE_BIN=$(command -v node)
[ "$("$NODE_BIN" -p 'process.versions.node')" = "$NODE_VERSION" ] \
  || die "the Dockerfile names Node.js $NODE_VERSION; this machine has $("$NODE_BIN" --version)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || die "no Debian mirror found in /etc/apt/sources.list(.d)"
NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$NODE_BIN")")") # /usr for /usr/bin/node

ROOTFS=$DOCKER_HOME/rootfs-$DEBIAN_RELEASE
rm -rf "$ROOTFS"
trap 'umount "$ROOTFS/proc" 2>/dev/null || true; rm -rf "$ROOTFS"' EXIT
say "debootstrap --variant=minbase $DEBIAN_RELEASE from $MIRROR (a few minutes)"
nice -n 10 debootstrap --variant=minbase "$DEBIAN_RELEASE" "$ROOTFS" "$MIRROR" >"$DOCKER_HOME/debootstrap.log" 2>&1 \
  || die "debootstrap failed; see $DOCKER_HOME/debootstrap.log"

install_certs() {
  mkdir -p "$ROOTFS/usr/local/share/ca-certificates" "$ROOTFS/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
}
slim_down() {
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*
}
import() { # import TAG ENV...
  local tag=$1; shift
  local changes=(--change 'CMD ["node"]')
  for e in "$@"; do changes+=(--change "ENV $e"); done
  say "importing $tag"
  tar -C "$ROOTFS" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . | docker import "${changes[@]}" - "$tag" >/dev/null
}

install -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
install_certs
echo "deb $MIRROR $DEBIAN_RELEASE main" >"$ROOTFS/etc/apt/sources.list"
slim_down
import "$BASE_SLIM"

say "adding the build tools (g++, make, python3-pip) and npm + Node headers"
mount -t proc proc "$ROOTFS/proc"
chroot "$ROOTFS" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make python3 python3-pip ca-certificates && update-ca-certificates' \
  >"$DOCKER_HOME/base-tools.log" 2>&1 || die "installing build tools failed; see $DOCKER_HOME/base-tools.log"
umount "$ROOTFS/proc"
install_certs
mkdir -p "$ROOTFS/usr/local/lib/node_modules" "$ROOTFS/usr/local/include"
cp -a "$NODE_PREFIX/lib/node_modules/npm" "$ROOTFS/usr/local/lib/node_modules/npm"
cp -a "$NODE_PREFIX/include/node" "$ROOTFS/usr/local/include/node"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
slim_down
import "$BASE_FULL" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep "^node:$NODE_VERSION" >&2
