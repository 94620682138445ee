#!/usr/bin/env bash
# GPU checks and timings for `--backend webgpu`, on a machine with a GPU:
#   bash scripts/gpu-check.sh [quick]
# after `npm install` there (Node 20+). It prints the adapter, checks that `auto` picks it, runs the
# webgpu tests, times the date model's training step at batch 100, 1,024 and 4,096 (seqlab's fused
# recurrent kernels on, then off), and (unless `quick`) one full `train nmt` with its accuracy.
# Results go to $OUT (default ./gpu-check-out): log.txt and the JSON lines of each part.
#
# A machine with no Node and no network: carry a folder .gpu/ made here by `bash scripts/gpu-bundle.sh`
# (a Node binary, dist/ and the node_modules files the CLI loads, the Vulkan loader); this script
# unpacks it first when it finds it.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
NODE=${NODE:-node}
QUICK=${1:-}
BATCHES=${BATCHES:-100,1024,4096}

if [ -f .gpu/node.xz ]; then
  echo "== unpacking .gpu/ (node, app, Vulkan loader)"
  mkdir -p /tmp/seqlab-node && xz -dc .gpu/node.xz > /tmp/seqlab-node/node && chmod +x /tmp/seqlab-node/node
  NODE=/tmp/seqlab-node/node
  tar xJf .gpu/app.tar.xz
  # the Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver (libGLX_nvidia) needs
  for deb in .gpu/*.deb; do dpkg -x "$deb" /; done
  ldconfig
fi
# where the NVIDIA container runtime puts the Vulkan driver's manifest, if the loader does not find it
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
done
export PATH="$(dirname "$(command -v "$NODE")"):$PATH"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
"$NODE" --version; nproc
echo "== seqlab info (auto) and --backend webgpu"
"$NODE" bin/seqlab info
"$NODE" bin/seqlab info --backend webgpu --json | tee "$OUT/info.json"

if [ -d node_modules/jest ]; then
  echo "== webgpu tests"
  "$NODE" node_modules/jest/bin/jest.js test/webgpu.test.ts 2>&1 | tail -20
fi

echo "== date model training step on webgpu (fused recurrent kernels on, then off)"
for kernels in 1 0; do
  echo "-- SEQLAB_KERNELS=$kernels"
  SEQLAB_KERNELS=$kernels "$NODE" dist/scripts/bench.js nmt --backends webgpu --batch-sizes "$BATCHES" --steps 10 --peers none | tee -a "$OUT/steps.txt"
done

if [ "$QUICK" != quick ]; then
  echo "== full run: seqlab train nmt --backend webgpu (20 epochs), then eval"
  "$NODE" dist/scripts/bench.js nmt --backends none --peers none --full --seeds 1 --backend webgpu | tee "$OUT/full.txt"
fi
echo "== done"
