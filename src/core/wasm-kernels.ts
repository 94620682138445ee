/**
 * Faster replacements for a few tfjs-backend-wasm 4.22 kernels that recurrent models lean on.
 *
 * - Slice, SplitV and Unpack read their input with backend.readSync, which copies the *whole*
 *   input out of the wasm heap on every call: unstacking a [steps, batch, 4n] projection costs
 *   O(steps x size). These versions read a view of the heap and copy only what they return.
 * - BatchMatMul is fast (XNNPACK) only for a single untransposed product; with transposeA or
 *   transposeB (every matMul gradient) it takes a naive loop, ~7x slower here. 2-D products run in
 *   seqlab's kernels (below); for the rest (batched, or both operands transposed) a wrapper
 *   transposes the operand with the fast Transpose kernel first.
 * - Reverse goes through a general C++ index loop (~27 ms for [256, 30, 128]); this one copies
 *   contiguous runs. Tile likewise (BatchNorm's gradient tiles over every step of a sequence).
 * - BatchMatMul of 2-D operands and Sum over leading axes (bias gradients) run in seqlab's own SIMD
 *   kernels (src/kernels/simd.ts), faster than the backend's here.
 * Outputs are the same (to float32 rounding); test/wasm-kernels.test.ts compares them with the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { inKernelMemory, kernels } from './kernels';

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
}
type KernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: Record<string, unknown> }) => TensorInfo | TensorInfo[];

let patched = false;

/** Copies x[begin : begin + size] (any rank) into a new tensor, touching only the copied elements. */
function sliceFromHeap(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput([...size], x.dtype); // a copy: makeOutput keeps the array
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    dst.set(src);
    return out;
  }
  const strides = tf.util.computeStrides(x.shape);
  // the innermost run of contiguous elements: trailing dimensions taken whole
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner--;
  const run = size.slice(inner).reduce((p, s) => p * s, 1);
  const outer = size.slice(0, inner);
  const count = outer.reduce((p, s) => p * s, 1);
  const idx = new Array(inner).fill(0);
  const innerOffset = begin[inner] * (inner < rank - 1 ? strides[inner] : 1);
  for (let k = 0; k < count; k++) {
    let off = innerOffset;
    for (let d = 0; d < inner; d++) off += (begin[d] + idx[d]) * strides[d];
    dst.set(src.subarray(off, off + run), k * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const fastSlice: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
  return sliceFromHeap(backend, x, begin, size);
};

const fastSplitV: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
  const begin = new Array(x.shape.length).fill(0);
  const size = x.shape.slice();
  return sizes.map((s) => {
    size[axis] = s;
    const out = sliceFromHeap(backend, x, begin, size);
    begin[axis] += s;
    return out;
  });
};

const fastUnpack: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.value;
  let axis = attrs.axis as number;
  if (axis < 0) axis += x.shape.length;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const begin = new Array(x.shape.length).fill(0);
  const size = x.shape.slice();
  size[axis] = 1;
  return Array.from({ length: x.shape[axis] }, (_, i) => {
    begin[axis] = i;
    const out = sliceFromHeap(backend, x, begin, size);
    return { dataId: out.dataId, dtype: out.dtype, shape: outShape };
  });
};

const fastReverse: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const rank = x.shape.length;
  const out = backend.makeOutput(x.shape, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    dst.set(src);
    return out;
  }
  const axes = new Set(tf.util.parseAxisParam(attrs.dims as number[], x.shape));
  const last = Math.max(...axes);
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const run = x.shape.slice(last + 1).reduce((p, s) => p * s, 1);
  const outer = x.shape.slice(0, last + 1);
  const count = outer.reduce((p, s) => p * s, 1);
  const idx = new Array(last + 1).fill(0);
  for (let k = 0; k < count; k++) {
    let from = 0;
    for (let d = 0; d <= last; d++) from += (axes.has(d) ? x.shape[d] - 1 - idx[d] : idx[d]) * strides[d];
    dst.set(src.subarray(from, from + run), k * run);
    for (let d = last; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
  return out;
};

/**
 * Tile: each input row written out `reps[last]` times, then each filled block copied along the
 * next dimension out, from the innermost to the outermost (copyWithin on the heap). The backend's
 * own goes element by element through an index computation (~37 ms for [8, 493, 196] here).
 */
const fastTile: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const reps = attrs.reps as number[];
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0 || src.length === 0) {
    dst.set(src);
    return out;
  }
  const S = [...tf.util.computeStrides(outShape), 1];
  const width = x.shape[rank - 1];
  // the input's rows, each repeated along the last dimension, at the first tile of every other dimension
  const rows = src.length / width;
  const idx = new Array(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let at = 0;
    for (let d = 0; d < rank - 1; d++) at += idx[d] * S[d];
    if (width === 1) dst.fill(src[r], at, at + reps[rank - 1]);
    else {
      const row = src.subarray(r * width, (r + 1) * width);
      for (let k = 0; k < reps[rank - 1]; k++) dst.set(row, at + k * width);
    }
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  // then dimension d = rank-2 ... 0: the block [0, shape[d]) is filled for the first tiles of dims < d; copy it
  for (let d = rank - 2; d >= 0; d--) {
    if (reps[d] === 1) continue;
    const block = x.shape[d] * S[d];
    const outer = x.shape.slice(0, d);
    const count = outer.reduce((p, v) => p * v, 1);
    const o = new Array(d).fill(0);
    for (let c = 0; c < count; c++) {
      let at = 0;
      for (let j = 0; j < d; j++) at += o[j] * S[j];
      for (let k = 1; k < reps[d]; k++) dst.copyWithin(at + k * block, at, at + block);
      for (let j = d - 1; j >= 0; j--) {
        if (++o[j] < outer[j]) break;
        o[j] = 0;
      }
    }
  }
  return out;
};

function transposedMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    // only the 2-D case: batched products keep the original path
    if ((!transposeA && !transposeB) || a.shape.length !== 2 || b.shape.length !== 2) return original(args);
    const flip = (t: TensorInfo) => transpose({ inputs: { x: t }, backend: args.backend, attrs: { perm: [1, 0] } }) as TensorInfo;
    const a2 = transposeA ? flip(a) : a;
    const b2 = transposeB ? flip(b) : b;
    const out = original({ ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    if (a2 !== a) args.backend.disposeData(a2.dataId);
    if (b2 !== b) args.backend.disposeData(b2.dataId);
    return out;
  };
}

/**
 * BatchMatMul of two 2-D float32 operands (or a batch of one), transposed or not (not both), in
 * seqlab's SIMD kernels (gemmAB32, gemmAtB32: 4 × 8 blocks of broadcast products, with no
 * transpose of A), on both threads where the helper runs: on one thread ~1.4× the backend's
 * XNNPACK at the date model's shapes ([7680, 37]·[37, 128] 6.3 vs 8.7 ms; its Aᵀ·B 4.5 vs 6.3 ms).
 * Other cases: `fallback`.
 */
function seqlabMatMul(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const flat = (t: TensorInfo) => t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1);
    if ((transposeA && transposeB) || !flat(a) || !flat(b) || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const [ra, ca] = a.shape.slice(-2);
    const [rb, cb] = b.shape.slice(-2);
    const [M, K] = transposeA ? [ca, ra] : [ra, ca];
    const N = transposeB ? rb : cb;
    const k = kernels();
    const [A, B, C, Bt] = inKernelMemory(
      [args.backend.typedArrayFromHeap(a) as Float32Array, args.backend.typedArrayFromHeap(b) as Float32Array],
      [M * N, transposeB ? K * N : 0],
      false, // both written in full below
    );
    let right = B;
    if (transposeB) {
      k.transpose32(B.ptr, Bt.ptr, N, K); // small: transposeB is a weight's turn in a gradient
      right = Bt;
    }
    if (transposeA) k.gemmAtB32(A.ptr, M, right.ptr, N, C.ptr, N, M, N, K, false);
    else k.gemmAB32(A.ptr, K, right.ptr, N, C.ptr, N, M, N, K, false);
    const out = args.backend.makeOutput(a.shape.length === 3 || b.shape.length === 3 ? [1, M, N] : [M, N], 'float32');
    (args.backend.typedArrayFromHeap(out) as Float32Array).set(C.view);
    return out;
  };
}

/**
 * Sum over leading axes (a bias gradient: [rows, n] → [n]) as column sums in seqlab's kernels;
 * the backend's own transposes first and then reduces (5.5 ms for [7680, 128] here). Other cases:
 * the original kernel.
 */
function seqlabSum(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x;
    const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
    const leading = axes.every((axis, i) => axis === i) && axes.length < x.shape.length;
    if (!leading || x.dtype !== 'float32') return original(args);
    const rows = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
    const rest = x.shape.slice(axes.length);
    const n = rest.reduce((p, d) => p * d, 1);
    const [X, sums] = inKernelMemory([args.backend.typedArrayFromHeap(x) as Float32Array], [n], false);
    kernels().colSum32(X.ptr, rows, n, sums.ptr);
    const out = args.backend.makeOutput(args.attrs.keepDims ? [...axes.map(() => 1), ...rest] : rest, 'float32');
    (args.backend.typedArrayFromHeap(out) as Float32Array).set(sums.view);
    return out;
  };
}

function replaceKernel(name: string, make: (original: KernelFunc) => KernelFunc): void {
  const config = tf.getKernel(name, 'wasm');
  if (!config) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: make(config.kernelFunc as unknown as KernelFunc) as unknown as tf.KernelFunc });
}

/** Installs the replacements (once). Call after the wasm backend is registered. */
export function speedUpWasmKernels(): void {
  if (patched) return;
  patched = true;
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc as unknown as KernelFunc;
  replaceKernel('Slice', () => fastSlice);
  replaceKernel('SplitV', () => fastSplitV);
  replaceKernel('Unpack', () => fastUnpack);
  replaceKernel('Reverse', () => fastReverse);
  replaceKernel('Tile', () => fastTile);
  replaceKernel('BatchMatMul', (original) => seqlabMatMul(transposedMatMul(original, transpose)));
  replaceKernel('Sum', seqlabSum);
}
