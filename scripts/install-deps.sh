#!/usr/bin/env bash
# Installs the Debian packages imsd needs to build, run and test; only the
# missing ones, so a second `make run` starts at once.
set -euo pipefail
pkgs=(
  build-essential pkg-config clang
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev libargon2-dev
  libinih-dev libcmocka-dev libcurl4-openssl-dev sqlite3
  python3-pytest python3-requests python3-openstacksdk python3-glanceclient
  python3-openstackclient
  wrk
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
