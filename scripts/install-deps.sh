#!/usr/bin/env bash
# Installs the Debian packages imsd needs to build, run and test; only the
# missing ones, so a second `make run` starts at once.
set -euo pipefail
pkgs=(
  build-essential pkg-config clang
  libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes: clang-14 only recommends it
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev libargon2-dev
  libinih-dev libcmocka-dev libcurl4-openssl-dev sqlite3
  libpq-dev  # the PostgreSQL engine (lib/db/pg.c)
  # the PostgreSQL server the tests start (tests/fixtures/start-postgres.sh)
  postgresql
  qemu-utils
  libvirt-dev libxml2-dev  # the libvirt compute source (its test driver needs no daemon)
  # a libvirt daemon of the tests' own with emulated QEMU domains (tests/api/libvirt_qemu.py:
  # backups of running domains); not libvirt-daemon-system, which brings systemd
  qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  python3-pytest python3-requests python3-openstacksdk python3-glanceclient
  python3-openstackclient
  # the S3-compatible server the object-storage tests start
  # (tests/fixtures/start-s3-server.sh): OpenStack Swift with s3api; curl
  # checks that it answers, memcached caches its account data
  swift swift-proxy swift-object swift-container swift-account memcached curl
  wrk
  iproute2  # ss: tests/api/test_data.py reads the congestion control of imsd's end of a connection
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# A fresh VM often runs its first unattended upgrade while we start: wait
# for the package lock instead of failing. apt-get install waits by itself
# (DPkg::Lock::Timeout); apt-get update does not wait for the lists lock, so
# it is retried here.
lock_wait=${IMSD_APT_LOCK_TIMEOUT:-900}
apt_opts=(-o "DPkg::Lock::Timeout=$lock_wait")
deadline=$((SECONDS + lock_wait))
said=""
until out=$($SUDO apt-get "${apt_opts[@]}" update -qq 2>&1); do
  if ! grep -q 'Could not get lock\|Unable to lock' <<<"$out" || [ $SECONDS -ge $deadline ]; then
    printf '%s\n' "$out" >&2
    exit 1
  fi
  [ -n "$said" ] || echo "another apt/dpkg holds the package lock: waiting up to ${lock_wait}s for it" >&2
  said=1
  sleep 3
done
[ -z "$said" ] || echo "package lock free: installing" >&2
$SUDO apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
