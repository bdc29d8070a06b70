# Shared by the container test scripts. Sourced, never run.
# Everything lives under $DOCKER_HOME (outside the repo): a Docker daemon of our
# own on our own socket, its data, the cached base images' root filesystems.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_HOME=${RECO_STACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/recommender-stack}
DOCKER_HOME=${RECO_DOCKER_HOME:-$STACK_HOME/docker}
DOCKER_SOCK=$DOCKER_HOME/docker.sock
DOCKER_PIDFILE=$DOCKER_HOME/dockerd.pid
DOCKER_LOG=$DOCKER_HOME/dockerd.log
export DOCKER_HOST=unix://$DOCKER_SOCK
# Debian's docker.io client (20.10) has BuildKit built in; a newer client on
# PATH may need the buildx plugin, which is not installed here.
DOCKER_BIN=${RECO_DOCKER_BIN:-/usr/bin/docker}
export DOCKER_BUILDKIT=1

# The versions the Dockerfile names (ARG NODE_VERSION / DEBIAN_RELEASE).
NODE_VERSION=$(sed -n 's/^ARG NODE_VERSION=//p' "$REPO_ROOT/deploy/docker/Dockerfile")
DEBIAN_RELEASE=$(sed -n 's/^ARG DEBIAN_RELEASE=//p' "$REPO_ROOT/deploy/docker/Dockerfile")
BASE_FULL=node:$NODE_VERSION-$DEBIAN_RELEASE
BASE_SLIM=node:$NODE_VERSION-$DEBIAN_RELEASE-slim

say() { printf '\033[1m[containers]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[containers] error:\033[0m %s\n' "$*" >&2; exit 1; }
docker() { "$DOCKER_BIN" "$@"; }
