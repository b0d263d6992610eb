# shellcheck shell=bash
# Sourced by build-rootfs.sh and fetch-kernel.sh: one builder of a cache dir at a time
# (two harness runs may start together on a fresh machine), and nothing to do once it is
# there.
# Usage: once_per_dest DEST MARKER MESSAGE   (exits 0 with MESSAGE when DEST/MARKER exists)
once_per_dest() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1.lock"
  flock 9
  if [ -f "$1/$2" ]; then
    echo "$3" >&2
    exit 0
  fi
}
