/**
 * seqlab's own WebAssembly kernels (AssemblyScript, compiled with SIMD by `npm run build` into
 * dist/kernels.wasm; src/core/kernels.ts loads them). They serve the hand-written networks, whose
 * small products plain JavaScript runs at ~3.4 ns per multiply-add on these machines; here a
 * product runs 4 lanes at a time (~0.15-0.3 ns). Arguments are byte offsets into this module's
 * memory, which the JavaScript side lays out.
 */

/** Σ_k a[k] b[k] over n float32 values, 8 at a time. */
@inline
function dot32(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let k = 0;
  for (; k + 7 < n; k += 8) {
    const o = (<usize>k) << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  if (k + 3 < n) {
    const o = (<usize>k) << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    k += 4;
  }
  s0 = f32x4.add(s0, s1);
  let s = f32x4.extract_lane(s0, 0) + f32x4.extract_lane(s0, 1) + (f32x4.extract_lane(s0, 2) + f32x4.extract_lane(s0, 3));
  for (; k < n; k++) s += load<f32>(a + ((<usize>k) << 2)) * load<f32>(b + ((<usize>k) << 2));
  return s;
}

/**
 * C = A Bᵀ (+ bias per column) (+ C when accumulate), float32: A is M×K with rows lda apart, B is
 * N×K with rows ldb apart, C is M×N with rows ldc apart (strides in elements); every element is
 * one contiguous dot product. bias = 0: none.
 */
export function gemmABt32(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, bias: usize, accumulate: bool): void {
  for (let i = 0; i < M; i++) {
    const ai = a + (((<usize>i) * lda) << 2);
    const ci = c + (((<usize>i) * ldc) << 2);
    for (let j = 0; j < N; j++) {
      let s = dot32(ai, b + (((<usize>j) * ldb) << 2), K);
      if (bias) s += load<f32>(bias + ((<usize>j) << 2));
      const at = ci + ((<usize>j) << 2);
      if (accumulate) s += load<f32>(at);
      store<f32>(at, s);
    }
  }
}

/** B = Aᵀ: A is M×N float32, B is N×M. */
export function transpose32(a: usize, b: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) store<f32>(b + (((<usize>j) * M + i) << 2), load<f32>(a + (((<usize>i) * N + j) << 2)));
  }
}
