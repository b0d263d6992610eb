#!/usr/bin/env bash
# Fetches Debian's amd64 kernel for the qemu stand-in of kata-qemu, without installing it:
# `apt-get download linux-image-6.1.0-N-amd64` + `dpkg -x`, keeping vmlinuz and the few
# modules the guest needs (e1000 for user-mode networking).
# Usage: fetch-kernel.sh DEST     (DEST appears atomically)
set -euo pipefail
dest="${1:?usage: fetch-kernel.sh DEST}"
# shellcheck source=/dev/null
. "$(dirname "$0")/lab-lock.sh"
once_per_dest "$dest" .sandwatch-kernel "fetch-kernel: $dest already present"
pkg="${SANDWATCH_KERNEL_PKG:-}"
if [ -z "$pkg" ]; then
  pkg="$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
fi
if [ -z "$pkg" ]; then
  echo "fetch-kernel: cannot find the linux-image package (apt-get update?)" >&2
  exit 1
fi
work="$(mktemp -d /tmp/sandwatch-kernel.XXXXXX)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq "$pkg" 2>/dev/null) || {
  echo "fetch-kernel: apt-get download $pkg failed" >&2
  exit 1
}
dpkg -x "$work"/"$pkg"_*.deb "$work/x"
vmlinuz="$(find "$work/x/boot" -name "vmlinuz-*" | head -n1)"
kver="${vmlinuz##*/vmlinuz-}"
tmp="$dest.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/modules"
cp "$vmlinuz" "$tmp/vmlinuz"
modules=(e1000)  # the guest needs only its NIC (qemu -device e1000)
for m in "${modules[@]}"; do
  f="$(find "$work/x/lib/modules/$kver" -name "$m.ko*" | head -n1)"
  [ -n "$f" ] || { echo "fetch-kernel: module $m not found" >&2; exit 1; }
  case "$f" in
    *.xz) xz -dc "$f" >"$tmp/modules/$m.ko" ;;
    *.zst) zstd -dqc "$f" >"$tmp/modules/$m.ko" ;;
    *) cp "$f" "$tmp/modules/$m.ko" ;;
  esac
done
printf 'package=%s\nversion=%s\nfetched=%s\n' "$pkg" "$kver" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  >"$tmp/.sandwatch-kernel"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "fetch-kernel: $pkg ($kver) in $dest" >&2
