#!/usr/bin/env bash
# A CPU Vulkan driver for trying `--backend webgpu` without a GPU (Debian/Ubuntu, amd64).
# Mesa's lavapipe from bookworm-backports (Mesa 25: Dawn refuses Debian 12's own Mesa 22) is
# unpacked under $LAVAPIPE_DIR (default /tmp/seqlab-lavapipe), nothing is installed. It prints the
# two variables to export, so:
#   eval "$(bash scripts/lavapipe.sh)" && npx seqlab info --backend webgpu
# The webgpu tests (test/webgpu.test.ts) run when these are set and skip with a message when not.
set -euo pipefail
DIR=${LAVAPIPE_DIR:-/tmp/seqlab-lavapipe}
LIB="$DIR/usr/lib/x86_64-linux-gnu"
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
  echo "lavapipe.sh: no Vulkan loader (libvulkan.so.1): apt-get install libvulkan1 first" >&2
  exit 1
fi
if [ ! -f "$DIR/lvp.json" ]; then
  command -v apt-get >/dev/null || { echo "lavapipe.sh: needs apt-get (Debian or Ubuntu)" >&2; exit 1; }
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$DIR/debs"
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$work/sources.list"
  apt=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists")
  apt-get "${apt[@]}" update >/dev/null 2>&1 || { echo "lavapipe.sh: apt-get update failed (no network?)" >&2; exit 1; }
  (cd "$DIR/debs" && apt-get "${apt[@]}" download mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-common/bookworm-backports >/dev/null 2>&1) ||
    { echo "lavapipe.sh: could not download mesa-vulkan-drivers from bookworm-backports" >&2; exit 1; }
  for deb in "$DIR"/debs/*.deb; do dpkg -x "$deb" "$DIR"; done
  printf '{"file_format_version":"1.0.0","ICD":{"api_version":"1.3.0","library_path":"%s"}}\n' "$LIB/libvulkan_lvp.so" > "$DIR/lvp.json"
  rm -rf "$work"
fi
echo "export VK_DRIVER_FILES=$DIR/lvp.json LD_LIBRARY_PATH=$LIB\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
