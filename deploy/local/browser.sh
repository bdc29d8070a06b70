#!/usr/bin/env bash
# Installs Debian's Chromium for the browser check of the Temporal web UI
# (test/browser), driven by playwright-core. Idempotent; needs root or sudo.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ -x /usr/bin/chromium ]; then exit 0; fi
need_tool apt-get "install Chromium yourself and point CHROMIUM_PATH at it"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
install_chromium() {
  $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
}
with_progress "installing Debian's chromium for the web UI browser check" "~1 min" "$STACK_LOGS/apt-chromium.log" install_chromium
