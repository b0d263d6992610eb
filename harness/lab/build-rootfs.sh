#!/usr/bin/env bash
# Builds the local lab's workload rootfs once: Debian bookworm minbase plus procps,
# findutils and ncat's run-time libraries, with ncat's .deb staged (not installed) in
# /var/cache/sandwatch/debs so the attack's package step is a real offline `dpkg -i`.
# Usage: build-rootfs.sh DEST DEBS_DIR
# DEST appears atomically (built in DEST.tmp, then renamed). Needs root and network
# access to the Debian mirror ($SANDWATCH_MIRROR, default deb.debian.org).
set -euo pipefail
dest="${1:?usage: build-rootfs.sh DEST DEBS_DIR}"
debs="${2:?usage: build-rootfs.sh DEST DEBS_DIR}"
mirror="${SANDWATCH_MIRROR:-http://deb.debian.org/debian}"
suite="${SANDWATCH_SUITE:-bookworm}"

# shellcheck source=/dev/null
. "$(dirname "$0")/lab-lock.sh"
once_per_dest "$dest" .sandwatch-rootfs "build-rootfs: $dest already built"
deb_file="$(find "$debs" -maxdepth 1 -name "ncat_*.deb" 2>/dev/null | head -n1 || true)"
if [ -z "$deb_file" ]; then
  echo "build-rootfs: no ncat_*.deb in $debs (run: cd $debs && apt-get download ncat)" >&2
  exit 1
fi
tmp="$dest.tmp"
cleanup() {
  # debootstrap may leave proc/sys mounted when it fails.
  for m in proc sys dev/pts dev; do umount -l "$tmp/$m" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
rm -rf "$tmp"
mkdir -p "$(dirname "$dest")"
start=$(date +%s)
# ncat's dependencies are installed now so that the offline dpkg -i succeeds later.
debootstrap --variant=minbase \
  --include=procps,findutils,liblua5.3-0,libpcap0.8,libssl3 \
  "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
  echo "build-rootfs: debootstrap failed; last lines of $tmp.log:" >&2
  tail -n 20 "$tmp.log" >&2
  exit 1
}
mkdir -p "$tmp/var/cache/sandwatch/debs"
cp "$deb_file" "$tmp/var/cache/sandwatch/debs/"
rm -f "$tmp"/var/cache/apt/archives/*.deb
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* \
  "$tmp"/usr/share/locale/* "$tmp"/usr/share/info/*
if [ -e "$tmp/usr/bin/ncat" ]; then
  echo "build-rootfs: ncat is already in the rootfs; the new-binary step would be meaningless" >&2
  exit 1
fi
took=$(( $(date +%s) - start ))
printf 'suite=%s\nmirror=%s\nbuilt=%s\nseconds=%s\nncat_deb=%s\n' "$suite" "$mirror" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$took" "$(basename "$deb_file")" >"$tmp/.sandwatch-rootfs"
rm -f "$tmp.log"
mv "$tmp" "$dest"
trap - EXIT
echo "build-rootfs: built $dest in ${took}s ($(du -sm "$dest" | cut -f1) MB)" >&2
