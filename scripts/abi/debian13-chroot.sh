#!/usr/bin/env bash
# Builds the Debian 13 (trixie) chroot that holds the loongarch64 cross gcc and
# the loong64 glibc + kernel uapi headers: Debian 12 ships none of them, and
# the ABI tables are only generated from a compiler with the target's real
# headers. generate.ts compiles probe.c for linux-loong64-gnu inside it (-c
# only; nothing loong64 ever runs). Safe to re-run: finished steps are skipped.
#
#   sudo bash scripts/abi/debian13-chroot.sh    # -> .cache/debian13-chroot (git-ignored)
#   DEBIAN_MIRROR=http://host/debian bash scripts/abi/debian13-chroot.sh
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then exec sudo -- env DEBIAN_MIRROR="${DEBIAN_MIRROR:-}" bash "$0"; fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# probe-runner.ts (TARGETS, `chroot`) expects it exactly here.
DIR=$ROOT/.cache/debian13-chroot
PACKAGES=(gcc-loongarch64-linux-gnu libc6-dev-loong64-cross linux-libc-dev-loong64-cross)
# Same Debian mirror as the host's apt (first non-comment .../debian URI), so
# a machine that can install its own packages can also build this.
MIRROR=${DEBIAN_MIRROR:-$( { grep -hsv '^[[:space:]]*#' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
  /etc/apt/sources.list.d/*.sources | grep -oE 'https?://[^[:space:]]+/debian/?([[:space:]]|$)' | head -n1 | tr -d '[:space:]'; } || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null; then
  apt-get update
  apt-get install -y --no-install-recommends debootstrap
fi

# debootstrap deletes <dir>/debootstrap when it succeeds: if it is still there,
# an earlier run was interrupted and the tree cannot be trusted.
if [ -d "$DIR/debootstrap" ]; then rm -rf --one-file-system "$DIR"; fi
if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  mkdir -p "$DIR"
  debootstrap --variant=minbase trixie "$DIR" "$MIRROR"
fi

installed() {
  for p in "${PACKAGES[@]}"; do
    dpkg-query --admindir="$DIR/var/lib/dpkg" -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed' || return 1
  done
}
if ! installed; then
  # No /proc, /sys or /dev mounts: apt, dpkg and these packages' maintainer
  # scripts run fine without them (debootstrap takes its own /proc down again).
  chroot "$DIR" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C \
    sh -c 'apt-get update && apt-get install -y --no-install-recommends "$@" && apt-get clean' sh "${PACKAGES[@]}"
fi

chroot "$DIR" loongarch64-linux-gnu-gcc --version | sed -n 1p
echo "chroot ready: $DIR ($(du -sh --one-file-system "$DIR" | cut -f1))"
