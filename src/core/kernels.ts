/**
 * Loads seqlab's WebAssembly kernels (src/kernels/simd.ts, built into dist/kernels.wasm by
 * `npm run build`) and lays out arrays in their memory. A caller asks for all the arrays one
 * computation needs at once (`arena`), fills them through the returned views, and passes their
 * byte offsets to the kernels; the next `arena` call reuses the same memory, so views from an
 * earlier call must not be kept, except arrays held with `keep` (a forward pass's saved arrays,
 * until its backward pass).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import { Worker } from 'worker_threads';
import { SeqlabError } from './errors';
import { packageRoot } from './paths';

export interface KernelExports {
  memory: WebAssembly.Memory;
  /** C = A Bᵀ (+ bias) (+ C): see src/kernels/simd.ts */
  gemmABt32(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, bias: number, accumulate: boolean): void;
  /** C = Aᵀ B (+ C) */
  gemmAtB32(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, accumulate: boolean): void;
  /** C = A B (+ C) */
  gemmAB32(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, accumulate: boolean): void;
  colSum32(b: number, K: number, N: number, out: number): void;
  repeatRow32(src: number, dst: number, rows: number, N: number): void;
  transpose32(a: number, b: number, M: number, N: number): void;
  reorder32(src: number, dst: number, B: number, T: number, W: number, toTimeMajor: boolean, reverse: boolean): void;
  gruForward(proj: number, UT: number, bRec: number, T: number, B: number, n: number, hs: number, zr: number, cand: number, hh: number, hp: number): void;
  gruBackward(dy: number, U: number, T: number, B: number, n: number, hs: number, zr: number, cand: number, hh: number, dProj: number, dHp: number, dh: number): void;
  lstmForward(proj: number, UT: number, T: number, B: number, n: number, hs: number, cs: number, gates: number, tcs: number, z: number): void;
  lstmBackward(dy: number, U: number, T: number, B: number, n: number, cs: number, gates: number, tcs: number, dz: number, dh: number, dc: number): void;
  attentionForward(
    a: number, keys: number, WsT: number, v: number, vb: number, WcT: number, bc: number, UT: number,
    B: number, Tx: number, F: number, e: number, n: number, Ty: number, linear: boolean,
    S: number, C: number, hidden: number, energy: number, alpha: number, context: number, gates: number, tcs: number, z: number, sp: number,
  ): void;
  attentionBackward(
    dOut: number, a: number, v: number, Ws: number, Wc: number, U: number,
    B: number, Tx: number, F: number, e: number, n: number, Ty: number, linear: boolean,
    C: number, hidden: number, energy: number, alpha: number, gates: number, tcs: number,
    da: number, dkeys: number, dv: number, dvb: number, dz: number, dsp: number, dh: number, dc: number, dctx: number, dal: number,
  ): void;
  /** 1: a helper thread runs helperLoop on this memory (half of each large product or sequence); 0: none */
  setHelpers(n: number): void;
  /** 1 while a helper thread waits for jobs */
  helperWaiting(): number;
  charRnnOptimize(p: number, g: number, nA: number, V: number, X: number, Y: number, T: number, aPrev: number, lr: number, clip: number, work: number): number;
}

/** A float32 array in kernel memory: its byte offset and a view of it. */
export interface F32 {
  ptr: number;
  view: Float32Array;
}

let loaded: KernelExports | undefined;

/** Arrays start after the module's own first page (its static data and the helper's control block live there). */
const BASE = 65536;

/** wasm32's limit, 4 GiB: a shared memory must name a maximum (address space, not memory, is reserved). */
const MAXIMUM_PAGES = 65536;

/** The helper thread: the same module on the same memory, in helperLoop until the process ends. */
const HELPER = `
const { workerData } = require('worker_threads');
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
instance.exports.helperLoop();
`;

/**
 * seqlab's kernels, loaded once, on a shared memory with a helper thread that takes half of each
 * large product and half the examples of each LSTM/GRU sequence (the second core; the peers use two
 * threads too). SEQLAB_THREADS=1, one core, or
 * a worker that cannot start: everything on the calling thread, same results.
 */
export function kernels(): KernelExports {
  if (loaded) return loaded;
  const module = loadModule();
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAXIMUM_PAGES, shared: true });
  loaded = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  if (kernelThreads() > 1) {
    try {
      const helper = new Worker(HELPER, { eval: true, workerData: { module, memory } });
      helper.unref(); // it never ends by itself; the process may
      helper.on('error', () => loaded!.setHelpers(0));
      loaded.setHelpers(1); // used from the moment the helper says it is waiting (its first job)
    } catch {
      // no worker threads here: one thread
    }
  }
  return loaded;
}

/** Which build of the kernels runs: 'fma' (relaxed SIMD: fused multiply-adds in the products) or 'simd'. */
export let kernelBuild: 'fma' | 'simd' = 'simd';

/**
 * The compiled kernels: the relaxed-SIMD build (its products use fused multiply-adds, ~1.4x faster
 * here) where the engine runs it — Node 22 and later do; Node 20 has it behind a V8 flag that is
 * turned on for it here — else the plain SIMD build, which computes the same up to rounding.
 * SEQLAB_FMA=0 keeps the plain build.
 */
function loadModule(): WebAssembly.Module {
  const read = (name: string) => {
    const file = path.join(packageRoot(), 'dist', name);
    try {
      return new Uint8Array(fs.readFileSync(file));
    } catch {
      throw new SeqlabError(`seqlab's compiled kernels are missing (${file}): run npm run build`);
    }
  };
  if (process.env.SEQLAB_FMA !== '0') {
    const fma = read('kernels-fma.wasm');
    if (!WebAssembly.validate(fma)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (WebAssembly.validate(fma)) {
      try {
        const module = new WebAssembly.Module(fma);
        kernelBuild = 'fma';
        return module;
      } catch {
        // an engine that validates but does not compile it: the plain build
      }
    }
  }
  kernelBuild = 'simd';
  return new WebAssembly.Module(read('kernels.wasm'));
}

/** Threads the kernels use: SEQLAB_THREADS, else 2 where there are 2 cores or more. */
export function kernelThreads(): number {
  const asked = Number(process.env.SEQLAB_THREADS);
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, 2);
  return Math.min(2, os.availableParallelism());
}

/**
 * Byte offsets of blocks of the given sizes in kernel memory (16-byte aligned; zero-filled
 * unless `zeroed` is false), growing the memory if needed. They stay valid until the next layout or arena call.
 */
export function layout(bytes: number[], zeroed = true): number[] {
  const k = kernels();
  const offsets: number[] = [];
  for (const p of kept) if (p.stale()) kept.delete(p);
  let end = BASE; // above every kept block
  for (const p of kept) end = Math.max(end, p.end);
  const start = end;
  for (const n of bytes) {
    offsets.push(end);
    end += Math.ceil(n / 16) * 16;
  }
  const pages = Math.ceil(end / 65536);
  const have = k.memory.buffer.byteLength / 65536;
  if (pages > have) k.memory.grow(pages - have);
  if (zeroed) new Uint8Array(k.memory.buffer, start, end - start).fill(0);
  return offsets;
}

/** Float32 arrays of the given lengths in kernel memory, as `layout` places them (zero-filled unless `zeroed` is false). */
export function arena(lengths: number[], zeroed = true): F32[] {
  return layout(lengths.map((n) => n * 4), zeroed).map((ptr, i) => ({ ptr, view: viewOf(ptr, lengths[i]) }));
}

/** A float32 view of `length` values at byte offset `ptr` of kernel memory (made anew after the memory grew). */
function viewOf(ptr: number, length: number): Float32Array {
  return new Float32Array(kernels().memory.buffer, ptr, length);
}

interface KeptBlock {
  end: number;
  stale: () => boolean;
}

const kept = new Set<KeptBlock>();

/**
 * Keeps arrays of the latest layout (the lowest ones of it: place them first) out of later layouts, so
 * a backward pass finds what its forward pass saved where it was made, without copies; until
 * `release`, or until `stale()` says nothing will use them any more (checked at each layout).
 */
export function keep(arrays: F32[], stale: () => boolean): { release(): void } {
  const block: KeptBlock = { end: Math.max(...arrays.map((a) => a.ptr + a.view.byteLength)), stale };
  kept.add(block);
  return { release: () => kept.delete(block) };
}

/** `arrays` copied into kernel memory, followed by room of the `scratch` lengths (zero-filled unless `zeroed` is false). */
export function inKernelMemory(arrays: Float32Array[], scratch: number[], zeroed = true): F32[] {
  const lengths = [...arrays.map((a) => a.length), ...scratch];
  const out = layout(lengths.map((n) => n * 4), false).map((ptr, i) => ({ ptr, view: new Float32Array(kernels().memory.buffer, ptr, lengths[i]) }));
  arrays.forEach((a, i) => out[i].view.set(a));
  if (zeroed) for (let i = arrays.length; i < out.length; i++) out[i].view.fill(0);
  return out;
}

/**
 * Σ over `rows` of a_rowᵀ b_row (a weight gradient: inputs a [rows, aw] against output gradients
 * b [rows, bw], both row-major in kernel memory) into out [aw, bw], as one product (gemmAtB32);
 * returns b's column sums (the bias gradient), made in `sums` (room for bw values).
 */
export function weightGradient(a: F32, aw: number, b: F32, bw: number, rows: number, out: F32, sums: F32): Float32Array {
  const k = kernels();
  k.gemmAtB32(a.ptr, aw, b.ptr, bw, out.ptr, bw, aw, bw, rows, false);
  k.colSum32(b.ptr, rows, bw, sums.ptr);
  return sums.view.slice();
}
