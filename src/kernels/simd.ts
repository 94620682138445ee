/**
 * seqlab's own WebAssembly kernels (AssemblyScript, compiled with SIMD by `npm run build` into
 * dist/kernels.wasm; src/core/kernels.ts loads them). They serve the hand-written networks, whose
 * small products plain JavaScript runs at ~3.4 ns per multiply-add on these machines; here a
 * product runs 4 lanes at a time (~0.15-0.3 ns). Arguments are byte offsets into this module's
 * memory, which the JavaScript side lays out; the memory is shared with a helper thread (see the
 * end of this file).
 */

/**
 * a·b + c on four lanes: one fused multiply-add where the build has relaxed SIMD (the
 * kernels-fma.wasm build; src/core/kernels.ts picks it where the engine runs it), else a multiply
 * and an add.
 */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Σ_k a[k] b[k] over n float32 values, 8 at a time. */
@inline
function dot32(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let k = 0;
  for (; k + 7 < n; k += 8) {
    const o = (<usize>k) << 2;
    s0 = madd(v128.load(a + o), v128.load(b + o), s0);
    s1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), s1);
  }
  if (k + 3 < n) {
    const o = (<usize>k) << 2;
    s0 = madd(v128.load(a + o), v128.load(b + o), s0);
    k += 4;
  }
  s0 = f32x4.add(s0, s1);
  let s = f32x4.extract_lane(s0, 0) + f32x4.extract_lane(s0, 1) + (f32x4.extract_lane(s0, 2) + f32x4.extract_lane(s0, 3));
  for (; k < n; k++) s += load<f32>(a + ((<usize>k) << 2)) * load<f32>(b + ((<usize>k) << 2));
  return s;
}

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Stores s (+ bias[j]) (+ the old value when accumulate) at c. */
@inline
function put(c: usize, s: f32, bias: usize, j: i32, accumulate: bool): void {
  if (bias) s += load<f32>(bias + ((<usize>j) << 2));
  if (accumulate) s += load<f32>(c);
  store<f32>(c, s);
}

/**
 * C = A Bᵀ (+ bias per column) (+ C when accumulate), float32: A is M×K with rows lda apart, B is
 * N×K with rows ldb apart, C is M×N with rows ldc apart (strides in elements). Blocks of 2 rows
 * of A by 4 rows of B share their loads (8 sums of 4 lanes in registers), K 4 at a time; the
 * edges are single dot products. bias = 0: none.
 */
export function gemmABt32(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, bias: usize, accumulate: bool): void {
  const half = split(M, N, K);
  if (half == 0) {
    gemmABtRows(a, lda, b, ldb, c, ldc, M, N, K, bias, accumulate);
    return;
  }
  // the helper thread takes rows half ... M-1
  post(JOB_ABT, <i32>(a + (((<usize>half) * lda) << 2)), lda, <i32>b, ldb, <i32>(c + (((<usize>half) * ldc) << 2)), ldc, M - half, N, K, <i32>bias, accumulate ? 1 : 0, 0, 0, 0);
  gemmABtRows(a, lda, b, ldb, c, ldc, half, N, K, bias, accumulate);
  joinHelper();
}

function gemmABtRows(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, bias: usize, accumulate: bool): void {
  const K4 = K & ~3;
  let i = 0;
  for (; i + 1 < M; i += 2) {
    const a0 = a + (((<usize>i) * lda) << 2);
    const a1 = a0 + ((<usize>lda) << 2);
    const c0 = c + (((<usize>i) * ldc) << 2);
    const c1 = c0 + ((<usize>ldc) << 2);
    let j = 0;
    for (; j + 3 < N; j += 4) {
      const b0 = b + (((<usize>j) * ldb) << 2);
      const b1 = b0 + ((<usize>ldb) << 2);
      const b2 = b1 + ((<usize>ldb) << 2);
      const b3 = b2 + ((<usize>ldb) << 2);
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = (<usize>k) << 2;
        const x0 = v128.load(a0 + o);
        const x1 = v128.load(a1 + o);
        const y0 = v128.load(b0 + o);
        const y1 = v128.load(b1 + o);
        const y2 = v128.load(b2 + o);
        const y3 = v128.load(b3 + o);
        s00 = madd(x0, y0, s00);
        s01 = madd(x0, y1, s01);
        s02 = madd(x0, y2, s02);
        s03 = madd(x0, y3, s03);
        s10 = madd(x1, y0, s10);
        s11 = madd(x1, y1, s11);
        s12 = madd(x1, y2, s12);
        s13 = madd(x1, y3, s13);
      }
      let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
      let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
      for (let k = K4; k < K; k++) {
        const o = (<usize>k) << 2;
        const x0 = load<f32>(a0 + o);
        const x1 = load<f32>(a1 + o);
        const y0 = load<f32>(b0 + o);
        const y1 = load<f32>(b1 + o);
        const y2 = load<f32>(b2 + o);
        const y3 = load<f32>(b3 + o);
        r00 += x0 * y0; r01 += x0 * y1; r02 += x0 * y2; r03 += x0 * y3;
        r10 += x1 * y0; r11 += x1 * y1; r12 += x1 * y2; r13 += x1 * y3;
      }
      const cj0 = c0 + ((<usize>j) << 2);
      const cj1 = c1 + ((<usize>j) << 2);
      put(cj0, r00, bias, j, accumulate);
      put(cj0 + 4, r01, bias, j + 1, accumulate);
      put(cj0 + 8, r02, bias, j + 2, accumulate);
      put(cj0 + 12, r03, bias, j + 3, accumulate);
      put(cj1, r10, bias, j, accumulate);
      put(cj1 + 4, r11, bias, j + 1, accumulate);
      put(cj1 + 8, r12, bias, j + 2, accumulate);
      put(cj1 + 12, r13, bias, j + 3, accumulate);
    }
    for (; j < N; j++) {
      const bj = b + (((<usize>j) * ldb) << 2);
      put(c0 + ((<usize>j) << 2), dot32(a0, bj, K), bias, j, accumulate);
      put(c1 + ((<usize>j) << 2), dot32(a1, bj, K), bias, j, accumulate);
    }
  }
  for (; i < M; i++) {
    const ai = a + (((<usize>i) * lda) << 2);
    const ci = c + (((<usize>i) * ldc) << 2);
    for (let j = 0; j < N; j++) put(ci + ((<usize>j) << 2), dot32(ai, b + (((<usize>j) * ldb) << 2), K), bias, j, accumulate);
  }
}

/** Stores v at p, plus what p held when accumulate. */
@inline
function putV(p: usize, v: v128, accumulate: bool): void {
  v128.store(p, accumulate ? f32x4.add(v128.load(p), v) : v);
}

/**
 * C = Aᵀ B (+ C when accumulate), float32: A is K×M with rows lda apart, B is K×N with rows ldb
 * apart, C is M×N with rows ldc apart. A weight gradient (inputs against output gradients, summed
 * over K rows) with no transposes.
 */
export function gemmAtB32(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, accumulate: bool): void {
  gemmStrided32(a, 1, lda, b, ldb, c, ldc, M, N, K, accumulate);
}

/** C = A B (+ C when accumulate), float32: A is M×K with rows lda apart, B K×N, C M×N (rows ldb, ldc apart). */
export function gemmAB32(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, accumulate: bool): void {
  gemmStrided32(a, lda, 1, b, ldb, c, ldc, M, N, K, accumulate);
}

/**
 * C = Σ_k A(i, k) B(k, ·) (+ C), where A(i, k) is the float32 at a + (i·ai + k·ak), so one
 * kernel serves A and Aᵀ; B is K×N row-major. Blocks of 4 rows by 8 columns of C in registers:
 * each step of k, one row of B (two vectors) times 4 values of A, each broadcast. K goes in
 * chunks, so the part of A and B a block streams through stays in cache.
 */
function gemmStrided32(a: usize, ai: i32, ak: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, accumulate: bool): void {
  const half = split(M, N, K);
  if (half == 0) {
    gemmStridedRows(a, ai, ak, b, ldb, c, ldc, M, N, K, accumulate);
    return;
  }
  post(JOB_STRIDED, <i32>(a + (((<usize>half) * ai) << 2)), ai, ak, <i32>b, ldb, <i32>(c + (((<usize>half) * ldc) << 2)), ldc, M - half, N, K, accumulate ? 1 : 0, 0, 0, 0);
  gemmStridedRows(a, ai, ak, b, ldb, c, ldc, half, N, K, accumulate);
  joinHelper();
}

function gemmStridedRows(a: usize, ai: i32, ak: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, accumulate: bool): void {
  const KC = 128;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const at = <usize>k0;
    gemmBlock32(a + ((at * ak) << 2), ai, ak, b + ((at * ldb) << 2), ldb, c, ldc, M, N, min(KC, K - k0), accumulate || k0 > 0);
  }
}

function gemmBlock32(a: usize, ai: i32, ak: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, accumulate: bool): void {
  const si = (<usize>ai) << 2;
  const sk = (<usize>ak) << 2;
  const rb = (<usize>ldb) << 2;
  const rc = (<usize>ldc) << 2;
  let i = 0;
  for (; i + 3 < M; i += 4) {
    const a0 = a + (<usize>i) * si;
    const ci = c + (<usize>i) * rc;
    let j = 0;
    for (; j + 7 < N; j += 8) {
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
      let pa = a0;
      let pb = b + ((<usize>j) << 2);
      for (let k = 0; k < K; k++) {
        const y0 = v128.load(pb);
        const y1 = v128.load(pb, 16);
        const x0 = v128.load32_splat(pa);
        const x1 = v128.load32_splat(pa + si);
        const x2 = v128.load32_splat(pa + 2 * si);
        const x3 = v128.load32_splat(pa + 3 * si);
        s00 = madd(x0, y0, s00);
        s01 = madd(x0, y1, s01);
        s10 = madd(x1, y0, s10);
        s11 = madd(x1, y1, s11);
        s20 = madd(x2, y0, s20);
        s21 = madd(x2, y1, s21);
        s30 = madd(x3, y0, s30);
        s31 = madd(x3, y1, s31);
        pa += sk;
        pb += rb;
      }
      const cj = ci + ((<usize>j) << 2);
      putV(cj, s00, accumulate);
      putV(cj + 16, s01, accumulate);
      putV(cj + rc, s10, accumulate);
      putV(cj + rc + 16, s11, accumulate);
      putV(cj + 2 * rc, s20, accumulate);
      putV(cj + 2 * rc + 16, s21, accumulate);
      putV(cj + 3 * rc, s30, accumulate);
      putV(cj + 3 * rc + 16, s31, accumulate);
    }
    for (; j + 3 < N; j += 4) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let pa = a0;
      let pb = b + ((<usize>j) << 2);
      for (let k = 0; k < K; k++) {
        const y = v128.load(pb);
        s0 = madd(v128.load32_splat(pa), y, s0);
        s1 = madd(v128.load32_splat(pa + si), y, s1);
        s2 = madd(v128.load32_splat(pa + 2 * si), y, s2);
        s3 = madd(v128.load32_splat(pa + 3 * si), y, s3);
        pa += sk;
        pb += rb;
      }
      const cj = ci + ((<usize>j) << 2);
      putV(cj, s0, accumulate);
      putV(cj + rc, s1, accumulate);
      putV(cj + 2 * rc, s2, accumulate);
      putV(cj + 3 * rc, s3, accumulate);
    }
    for (; j < N; j++) {
      for (let r = 0; r < 4; r++) {
        let s: f32 = 0;
        let pa = a0 + (<usize>r) * si;
        let pb = b + ((<usize>j) << 2);
        for (let k = 0; k < K; k++) {
          s += load<f32>(pa) * load<f32>(pb);
          pa += sk;
          pb += rb;
        }
        const p = ci + (<usize>r) * rc + ((<usize>j) << 2);
        store<f32>(p, (accumulate ? load<f32>(p) : 0) + s);
      }
    }
  }
  for (; i < M; i++) {
    const a0 = a + (<usize>i) * si;
    const ci = c + (<usize>i) * rc;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      let s = f32x4.splat(0);
      let pa = a0;
      let pb = b + ((<usize>j) << 2);
      for (let k = 0; k < K; k++) {
        s = madd(v128.load32_splat(pa), v128.load(pb), s);
        pa += sk;
        pb += rb;
      }
      putV(ci + ((<usize>j) << 2), s, accumulate);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let pa = a0;
      let pb = b + ((<usize>j) << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += sk;
        pb += rb;
      }
      const p = ci + ((<usize>j) << 2);
      store<f32>(p, (accumulate ? load<f32>(p) : 0) + s);
    }
  }
}

/**
 * out[j] = Σ_r b[r][j] over K rows of N float32 values (a bias gradient), row after row (one pass
 * over b; the sums, N values, stay in cache).
 */
export function colSum32(b: usize, K: i32, N: i32, out: usize): void {
  memory.fill(out, 0, (<usize>N) << 2);
  const N4 = N & ~3;
  let row = b;
  for (let k = 0; k < K; k++) {
    let j = 0;
    for (; j < N4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
    }
    for (; j < N; j++) {
      const o = (<usize>j) << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(row + o));
    }
    row += (<usize>N) << 2;
  }
}

/** dst [rows, N] = the row of N float32 values at src, repeated (a bias, before a product accumulates onto it). */
export function repeatRow32(src: usize, dst: usize, rows: i32, N: i32): void {
  const row = (<usize>N) << 2;
  for (let r = 0; r < rows; r++) memory.copy(dst + (<usize>r) * row, src, row);
}

/**
 * Copies rows of W float32 values between batch-major [B, T, W] and time-major [T, B, W] layouts
 * (toTimeMajor: src is batch-major; otherwise dst is), with time reversed when `reverse` (row
 * (b, t) of one is row (T-1-t, b) of the other).
 */
export function reorder32(src: usize, dst: usize, B: i32, T: i32, W: i32, toTimeMajor: bool, reverse: bool): void {
  const row = (<usize>W) << 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const s = reverse ? T - 1 - t : t;
      const batchMajor = ((<usize>b) * T + t) * row;
      const timeMajor = ((<usize>s) * B + b) * row;
      if (toTimeMajor) memory.copy(dst + timeMajor, src + batchMajor, row);
      else memory.copy(dst + batchMajor, src + timeMajor, row);
    }
  }
}

/** B = Aᵀ: A is M×N float32, B is N×M. */
export function transpose32(a: usize, b: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) store<f32>(b + (((<usize>j) * M + i) << 2), load<f32>(a + (((<usize>i) * N + j) << 2)));
  }
}

/** Σ_k a[k] b[k] over n float64 values, 4 at a time in two lanes. */
@inline
function dot64(a: usize, b: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const o = (<usize>k) << 3;
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; k < n; k++) s += load<f64>(a + ((<usize>k) << 3)) * load<f64>(b + ((<usize>k) << 3));
  return s;
}

/** dW[0..n) += d · a[0..n) and acc[0..n) += W[0..n) · d, in one pass (float64). */
@inline
function outerAndBack64(W: usize, dW: usize, a: usize, acc: usize, d: f64, n: i32): void {
  const dd = f64x2.splat(d);
  let k = 0;
  for (; k + 1 < n; k += 2) {
    const o = (<usize>k) << 3;
    v128.store(dW + o, f64x2.add(v128.load(dW + o), f64x2.mul(dd, v128.load(a + o))));
    v128.store(acc + o, f64x2.add(v128.load(acc + o), f64x2.mul(v128.load(W + o), dd)));
  }
  if (k < n) {
    const o = (<usize>k) << 3;
    store<f64>(dW + o, load<f64>(dW + o) + d * load<f64>(a + o));
    store<f64>(acc + o, load<f64>(acc + o) + load<f64>(W + o) * d);
  }
}

/** dW[0..n) += d · a[0..n) (float64). */
@inline
function outer64(dW: usize, a: usize, d: f64, n: i32): void {
  const dd = f64x2.splat(d);
  let k = 0;
  for (; k + 1 < n; k += 2) {
    const o = (<usize>k) << 3;
    v128.store(dW + o, f64x2.add(v128.load(dW + o), f64x2.mul(dd, v128.load(a + o))));
  }
  if (k < n) store<f64>(dW + ((<usize>k) << 3), load<f64>(dW + ((<usize>k) << 3)) + d * load<f64>(a + ((<usize>k) << 3)));
}

/**
 * The course's char-RNN optimize() for one name, float64, in place (src/models/handwritten/
 * char-rnn.ts has the same in JavaScript, and the equations): forward over X with targets Y from
 * aPrev, BPTT, every gradient clipped to [-clip, clip], p -= lr·g. `p` and `g` hold Wax (nA×V),
 * Waa (nA×nA), Wya (V×nA), b (nA), by (V) back to back; X and Y are int32 (X[t] = -1: the zero
 * vector); `work` has room for T·(nA + V) + 2·nA + V values. Returns the summed cross-entropy;
 * the last hidden state is written into aPrev and the clipped gradients stay in g.
 */
export function charRnnOptimize(p: usize, g: usize, nA: i32, V: i32, X: usize, Y: usize, T: i32, aPrev: usize, lr: f64, clip: f64, work: usize): f64 {
  const nAb = (<usize>nA) << 3;
  const Vb = (<usize>V) << 3;
  const Wax = p;
  const Waa = Wax + nAb * V;
  const Wya = Waa + nAb * nA;
  const b = Wya + Vb * nA;
  const by = b + nAb;
  const total = nA * V + nA * nA + V * nA + nA + V;
  const aAll = work; // a⟨t⟩, T × nA
  const yAll = aAll + nAb * T; // ŷ⟨t⟩, T × V
  const da = yAll + Vb * T;
  const daNext = da + nAb;
  const dy = daNext + nAb;
  let loss: f64 = 0;
  for (let t = 0; t < T; t++) {
    const x = load<i32>(X + ((<usize>t) << 2));
    const prev = t == 0 ? aPrev : aAll + nAb * (t - 1);
    const a = aAll + nAb * t;
    const y = yAll + Vb * t;
    for (let i = 0; i < nA; i++) {
      let s = load<f64>(b + ((<usize>i) << 3)) + dot64(Waa + nAb * i, prev, nA);
      if (x >= 0) s += load<f64>(Wax + (((<usize>i) * V + x) << 3));
      store<f64>(a + ((<usize>i) << 3), s);
    }
    for (let i = 0; i < nA; i++) store<f64>(a + ((<usize>i) << 3), Math.tanh(load<f64>(a + ((<usize>i) << 3))));
    let max = -Infinity;
    for (let j = 0; j < V; j++) {
      const v = load<f64>(by + ((<usize>j) << 3)) + dot64(Wya + nAb * j, a, nA);
      store<f64>(y + ((<usize>j) << 3), v);
      if (v > max) max = v;
    }
    let sum: f64 = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(load<f64>(y + ((<usize>j) << 3)) - max);
      store<f64>(y + ((<usize>j) << 3), e);
      sum += e;
    }
    for (let j = 0; j < V; j++) store<f64>(y + ((<usize>j) << 3), load<f64>(y + ((<usize>j) << 3)) / sum);
    loss -= Math.log(load<f64>(y + ((<usize>load<i32>(Y + ((<usize>t) << 2))) << 3)));
  }
  memory.fill(g, 0, (<usize>total) << 3);
  memory.fill(daNext, 0, nAb);
  const dWax = g;
  const dWaa = dWax + nAb * V;
  const dWya = dWaa + nAb * nA;
  const db = dWya + Vb * nA;
  const dby = db + nAb;
  for (let t = T - 1; t >= 0; t--) {
    const a = aAll + nAb * t;
    const prev = t == 0 ? aPrev : aAll + nAb * (t - 1);
    memory.copy(dy, yAll + Vb * t, Vb);
    const yt = dy + ((<usize>load<i32>(Y + ((<usize>t) << 2))) << 3);
    store<f64>(yt, load<f64>(yt) - 1);
    // dWya += dy aᵀ and da = Wyaᵀ dy + da_next
    memory.copy(da, daNext, nAb);
    for (let j = 0; j < V; j++) {
      const d = load<f64>(dy + ((<usize>j) << 3));
      store<f64>(dby + ((<usize>j) << 3), load<f64>(dby + ((<usize>j) << 3)) + d);
      outerAndBack64(Wya + nAb * j, dWya + nAb * j, a, da, d, nA);
    }
    // through tanh; dWaa += draw a_prevᵀ and da_next = Waaᵀ draw
    memory.fill(daNext, 0, nAb);
    const x = load<i32>(X + ((<usize>t) << 2));
    for (let i = 0; i < nA; i++) {
      const ai = load<f64>(a + ((<usize>i) << 3));
      const d = (1 - ai * ai) * load<f64>(da + ((<usize>i) << 3));
      store<f64>(db + ((<usize>i) << 3), load<f64>(db + ((<usize>i) << 3)) + d);
      if (x >= 0) {
        const at = dWax + (((<usize>i) * V + x) << 3);
        store<f64>(at, load<f64>(at) + d);
      }
      if (t > 0) outerAndBack64(Waa + nAb * i, dWaa + nAb * i, prev, daNext, d, nA);
      else outer64(dWaa + nAb * i, prev, d, nA); // da⟨0⟩ is not needed
    }
  }
  // clip and step
  for (let k = 0; k < total; k++) {
    const o = (<usize>k) << 3;
    let c = load<f64>(g + o);
    if (c > clip) c = clip;
    else if (c < -clip) c = -clip;
    store<f64>(g + o, c);
    store<f64>(p + o, load<f64>(p + o) - lr * c);
  }
  memory.copy(aPrev, aAll + nAb * (T - 1), nAb);
  return loss;
}

/**
 * e^x on 4 lanes (Cephes' expf: x = n·ln 2 + r, a degree-6 polynomial for e^r, 2^n from the
 * exponent bits): within 2 ulp over [-87, 88], ~10× faster than Mathf.exp one at a time.
 */
@inline
function expV(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  return f32x4.mul(p, i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23));
}

/** 1 / (1 + e^-x) on 4 lanes. */
@inline
function sigmoidV(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(x))));
}

/** tanh on 4 lanes, as 2·sigmoid(2x) - 1 (absolute error ~1e-7). */
@inline
function tanhV(x: v128): v128 {
  return f32x4.sub(f32x4.mul(f32x4.splat(2), sigmoidV(f32x4.add(x, x))), f32x4.splat(1));
}

/** sigmoidV for one value (the same arithmetic, so a tail agrees with the vector lanes). */
@inline
function sigmoid32(x: f32): f32 {
  return f32x4.extract_lane(sigmoidV(f32x4.splat(x)), 0);
}

@inline
function tanh32(x: f32): f32 {
  return f32x4.extract_lane(tanhV(f32x4.splat(x)), 0);
}

@inline
function exp32(x: f32): f32 {
  return f32x4.extract_lane(expV(f32x4.splat(x)), 0);
}

/**
 * A GRU (Keras reset_after layout, gates z, r, h) over T steps of a batch of B, n units, float32:
 * proj is x·W + b_in for every step [T, B, 3n], UT the recurrent kernel transposed [3n, n], bRec
 * its bias [3n]; hs [T + 1, B, n] holds h_0 on entry and gets h_1 ... h_T. Saved for the
 * backward pass: zr [T, B, 2n] (activated), cand [T, B, n], hh [T, B, n] (h·U_h + b_h).
 * hp [B, 3n] is room to work in. The same arithmetic as gruSequence in src/models/recurrent.ts.
 */
export function gruForward(proj: usize, UT: usize, bRec: usize, T: i32, B: i32, n: i32, hs: usize, zr: usize, cand: usize, hh: usize, hp: usize): void {
  const half = split(B, 3 * n, n * T);
  if (half == 0) {
    gruForwardRows(proj, UT, bRec, T, B, n, hs, zr, cand, hh, hp, 0, B);
    return;
  }
  post(JOB_GRU_FORWARD, <i32>proj, <i32>UT, <i32>bRec, T, B, n, <i32>hs, <i32>zr, <i32>cand, <i32>hh, <i32>hp, half, B, 0);
  gruForwardRows(proj, UT, bRec, T, B, n, hs, zr, cand, hh, hp, 0, half);
  joinHelper();
}

/** gruForward for examples b0 ... b1-1 of the batch (each example's recursion is its own). */
function gruForwardRows(proj: usize, UT: usize, bRec: usize, T: i32, B: i32, n: i32, hs: usize, zr: usize, cand: usize, hh: usize, hp: usize, b0: i32, b1: i32): void {
  const n3 = 3 * n;
  for (let t = 0; t < T; t++) {
    const h = hs + (((<usize>t) * B * n) << 2);
    const hNext = h + (((<usize>B) * n) << 2);
    gemmABtRows(h + (((<usize>b0) * n) << 2), n, UT, n, hp + (((<usize>b0) * n3) << 2), n3, b1 - b0, n3, n, bRec, false);
    for (let b = b0; b < b1; b++) {
      const p = proj + ((((<usize>t) * B + b) * n3) << 2);
      const q = hp + (((<usize>b) * n3) << 2);
      const g = zr + ((((<usize>t) * B + b) * 2 * n) << 2);
      const c = cand + ((((<usize>t) * B + b) * n) << 2);
      const hv = hh + ((((<usize>t) * B + b) * n) << 2);
      const hb = h + (((<usize>b) * n) << 2);
      const hn = hNext + (((<usize>b) * n) << 2);
      let k = 0;
      for (; k + 3 < 2 * n; k += 4) {
        const o = (<usize>k) << 2;
        v128.store(g + o, sigmoidV(f32x4.add(v128.load(p + o), v128.load(q + o))));
      }
      for (; k < 2 * n; k++) {
        const o = (<usize>k) << 2;
        store<f32>(g + o, sigmoid32(load<f32>(p + o) + load<f32>(q + o)));
      }
      const nb = (<usize>n) << 2;
      for (k = 0; k + 3 < n; k += 4) {
        const o = (<usize>k) << 2;
        const z = v128.load(g + o);
        const r = v128.load(g + nb + o);
        const hhv = v128.load(q + 2 * nb + o);
        v128.store(hv + o, hhv);
        const cv = tanhV(f32x4.add(v128.load(p + 2 * nb + o), f32x4.mul(r, hhv)));
        v128.store(c + o, cv);
        v128.store(hn + o, f32x4.add(cv, f32x4.mul(z, f32x4.sub(v128.load(hb + o), cv))));
      }
      for (; k < n; k++) {
        const o = (<usize>k) << 2;
        const z = load<f32>(g + o);
        const r = load<f32>(g + (((<usize>n + k)) << 2));
        const hhv = load<f32>(q + (((<usize>2 * n + k)) << 2));
        store<f32>(hv + o, hhv);
        const cv = tanh32(load<f32>(p + (((<usize>2 * n + k)) << 2)) + r * hhv);
        store<f32>(c + o, cv);
        store<f32>(hn + o, cv + z * (load<f32>(hb + o) - cv));
      }
    }
  }
}

/**
 * The GRU's backward pass through time, for what gruForward saved: dy [T, B, n] is the gradient
 * of every h_t; U is the recurrent kernel [n, 3n]. Writes dProj [T, B, 3n] (the gradient of
 * proj) and dHp [T, B, 3n] (of h·U + b_rec at every step), and leaves the gradient of h_0 in dh
 * [B, n] (zero on entry).
 */
export function gruBackward(dy: usize, U: usize, T: i32, B: i32, n: i32, hs: usize, zr: usize, cand: usize, hh: usize, dProj: usize, dHp: usize, dh: usize): void {
  const half = split(B, 3 * n, n * T);
  if (half == 0) {
    gruBackwardRows(dy, U, T, B, n, hs, zr, cand, hh, dProj, dHp, dh, 0, B);
    return;
  }
  post(JOB_GRU_BACKWARD, <i32>dy, <i32>U, T, B, n, <i32>hs, <i32>zr, <i32>cand, <i32>hh, <i32>dProj, <i32>dHp, <i32>dh, half, B);
  gruBackwardRows(dy, U, T, B, n, hs, zr, cand, hh, dProj, dHp, dh, 0, half);
  joinHelper();
}

/** gruBackward for examples b0 ... b1-1. */
function gruBackwardRows(dy: usize, U: usize, T: i32, B: i32, n: i32, hs: usize, zr: usize, cand: usize, hh: usize, dProj: usize, dHp: usize, dh: usize, b0: i32, b1: i32): void {
  const n3 = 3 * n;
  for (let t = T - 1; t >= 0; t--) {
    const h = hs + (((<usize>t) * B * n) << 2);
    for (let b = b0; b < b1; b++) {
      const row = (<usize>t) * B + b;
      const g = zr + ((row * 2 * n) << 2);
      const c = cand + ((row * n) << 2);
      const hv = hh + ((row * n) << 2);
      const d = dy + ((row * n) << 2);
      const hb = h + (((<usize>b) * n) << 2);
      const dhb = dh + (((<usize>b) * n) << 2);
      const dp = dProj + ((row * n3) << 2);
      const dq = dHp + ((row * n3) << 2);
      for (let k = 0; k < n; k++) {
        const o = (<usize>k) << 2;
        const z = load<f32>(g + o);
        const r = load<f32>(g + (((<usize>n + k)) << 2));
        const cv = load<f32>(c + o);
        const dhv = load<f32>(d + o) + load<f32>(dhb + o);
        const da = dhv * (1 - z) * (1 - cv * cv);
        const dz = dhv * (load<f32>(hb + o) - cv) * z * (1 - z);
        const dr = da * load<f32>(hv + o) * r * (1 - r);
        store<f32>(dq + o, dz);
        store<f32>(dq + (((<usize>n + k)) << 2), dr);
        store<f32>(dq + (((<usize>2 * n + k)) << 2), da * r);
        store<f32>(dp + o, dz);
        store<f32>(dp + (((<usize>n + k)) << 2), dr);
        store<f32>(dp + (((<usize>2 * n + k)) << 2), da);
        store<f32>(dhb + o, dhv * z);
      }
    }
    // dh_prev = dh·z + dHp_t Uᵀ
    gemmABtRows(dHp + ((((<usize>t) * B + b0) * n3) << 2), n3, U, n3, dh + (((<usize>b0) * n) << 2), n, b1 - b0, n, n3, 0, true);
  }
}

/**
 * One LSTM step for one example, n units (Keras layout, gates i, f, c, o): z holds the gate
 * pre-activations [4n]; cPrev is c_(t-1); writes the activated gates g [4n], tanh c_t into tc,
 * c_t into cNext and h_t into hNext.
 */
@inline
function lstmCell(z: usize, n: i32, cPrev: usize, g: usize, tc: usize, cNext: usize, hNext: usize): void {
  const nb = (<usize>n) << 2;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const o = (<usize>k) << 2;
    const i = sigmoidV(v128.load(z + o));
    const f = sigmoidV(v128.load(z + nb + o));
    const gg = tanhV(v128.load(z + 2 * nb + o));
    const og = sigmoidV(v128.load(z + 3 * nb + o));
    v128.store(g + o, i);
    v128.store(g + nb + o, f);
    v128.store(g + 2 * nb + o, gg);
    v128.store(g + 3 * nb + o, og);
    const cv = f32x4.add(f32x4.mul(f, v128.load(cPrev + o)), f32x4.mul(i, gg));
    const tv = tanhV(cv);
    v128.store(cNext + o, cv);
    v128.store(tc + o, tv);
    v128.store(hNext + o, f32x4.mul(og, tv));
  }
  for (; k < n; k++) {
    const o = (<usize>k) << 2;
    const on = ((<usize>n) << 2) + o;
    const i = sigmoid32(load<f32>(z + o));
    const f = sigmoid32(load<f32>(z + on));
    const gg = tanh32(load<f32>(z + on + ((<usize>n) << 2)));
    const og = sigmoid32(load<f32>(z + on + ((<usize>n) << 3)));
    store<f32>(g + o, i);
    store<f32>(g + on, f);
    store<f32>(g + on + ((<usize>n) << 2), gg);
    store<f32>(g + on + ((<usize>n) << 3), og);
    const cv = f * load<f32>(cPrev + o) + i * gg;
    const tv = tanh32(cv);
    store<f32>(cNext + o, cv);
    store<f32>(tc + o, tv);
    store<f32>(hNext + o, og * tv);
  }
}

/**
 * lstmCell backwards for one example: d is the gradient of h_t from outside the recursion, dh and
 * dc carry the recursion's gradients of h_t and c_t in and leave with dc for c_(t-1) (dh is left
 * for the caller to overwrite with dz Uᵀ); writes the gate pre-activations' gradient dz [4n].
 */
@inline
function lstmCellBackward(g: usize, tc: usize, cPrev: usize, d: usize, n: i32, dh: usize, dc: usize, dz: usize): void {
  for (let k = 0; k < n; k++) {
    const o = (<usize>k) << 2;
    const on = ((<usize>n) << 2) + o;
    const i = load<f32>(g + o);
    const f = load<f32>(g + on);
    const gg = load<f32>(g + on + ((<usize>n) << 2));
    const og = load<f32>(g + on + ((<usize>n) << 3));
    const tv = load<f32>(tc + o);
    const dhv = load<f32>(d + o) + load<f32>(dh + o);
    const dcv = load<f32>(dc + o) + dhv * og * (1 - tv * tv);
    store<f32>(dz + o, dcv * gg * i * (1 - i));
    store<f32>(dz + on, dcv * load<f32>(cPrev + o) * f * (1 - f));
    store<f32>(dz + on + ((<usize>n) << 2), dcv * i * (1 - gg * gg));
    store<f32>(dz + on + ((<usize>n) << 3), dhv * tv * og * (1 - og));
    store<f32>(dc + o, dcv * f);
  }
}

/**
 * An LSTM (Keras layout, gates i, f, c, o) over T steps of a batch of B, n units, float32, from
 * zero state: proj is x·W + b for every step [T, B, 4n], UT the recurrent kernel transposed
 * [4n, n]. hs and cs [T + 1, B, n] (row 0 zero on entry) get h_t and c_t; saved for the backward
 * pass: gates [T, B, 4n] (activated) and tcs [T, B, n] (tanh c_t). z [B, 4n] is room to work in.
 * The same arithmetic as lstmSequence in src/models/recurrent.ts.
 */
export function lstmForward(proj: usize, UT: usize, T: i32, B: i32, n: i32, hs: usize, cs: usize, gates: usize, tcs: usize, z: usize): void {
  const half = split(B, 4 * n, n * T);
  if (half == 0) {
    lstmForwardRows(proj, UT, T, B, n, hs, cs, gates, tcs, z, 0, B);
    return;
  }
  post(JOB_LSTM_FORWARD, <i32>proj, <i32>UT, T, B, n, <i32>hs, <i32>cs, <i32>gates, <i32>tcs, <i32>z, half, B, 0, 0);
  lstmForwardRows(proj, UT, T, B, n, hs, cs, gates, tcs, z, 0, half);
  joinHelper();
}

/** lstmForward for examples b0 ... b1-1 of the batch (each example's recursion is its own). */
function lstmForwardRows(proj: usize, UT: usize, T: i32, B: i32, n: i32, hs: usize, cs: usize, gates: usize, tcs: usize, z: usize, b0: i32, b1: i32): void {
  const n4 = 4 * n;
  for (let t = 0; t < T; t++) {
    const h = hs + (((<usize>t) * B * n) << 2);
    const c = cs + (((<usize>t) * B * n) << 2);
    const step = ((<usize>B) * n) << 2;
    gemmABtRows(h + (((<usize>b0) * n) << 2), n, UT, n, z + (((<usize>b0) * n4) << 2), n4, b1 - b0, n4, n, 0, false);
    for (let b = b0; b < b1; b++) {
      const row = (<usize>t) * B + b;
      const zb = z + (((<usize>b) * n4) << 2);
      const p = proj + ((row * n4) << 2);
      for (let k = 0; k < n4; k++) {
        const o = (<usize>k) << 2;
        store<f32>(zb + o, load<f32>(zb + o) + load<f32>(p + o));
      }
      const at = (((<usize>b) * n) << 2);
      lstmCell(zb, n, c + at, gates + ((row * n4) << 2), tcs + ((row * n) << 2), c + step + at, h + step + at);
    }
  }
}

/**
 * The LSTM's backward pass through time, for what lstmForward saved: dy [T, B, n] is the gradient
 * of every h_t, U the recurrent kernel [n, 4n]. Writes dz [T, B, 4n], the gradient of the gate
 * pre-activations (= of proj); dh and dc [B, n] are room to work in (zero on entry).
 */
export function lstmBackward(dy: usize, U: usize, T: i32, B: i32, n: i32, cs: usize, gates: usize, tcs: usize, dz: usize, dh: usize, dc: usize): void {
  const half = split(B, 4 * n, n * T);
  if (half == 0) {
    lstmBackwardRows(dy, U, T, B, n, cs, gates, tcs, dz, dh, dc, 0, B);
    return;
  }
  post(JOB_LSTM_BACKWARD, <i32>dy, <i32>U, T, B, n, <i32>cs, <i32>gates, <i32>tcs, <i32>dz, <i32>dh, <i32>dc, half, B, 0);
  lstmBackwardRows(dy, U, T, B, n, cs, gates, tcs, dz, dh, dc, 0, half);
  joinHelper();
}

/** lstmBackward for examples b0 ... b1-1. */
function lstmBackwardRows(dy: usize, U: usize, T: i32, B: i32, n: i32, cs: usize, gates: usize, tcs: usize, dz: usize, dh: usize, dc: usize, b0: i32, b1: i32): void {
  const n4 = 4 * n;
  for (let t = T - 1; t >= 0; t--) {
    const c = cs + (((<usize>t) * B * n) << 2); // c_(t-1)
    for (let b = b0; b < b1; b++) {
      const row = (<usize>t) * B + b;
      const at = ((<usize>b) * n) << 2;
      lstmCellBackward(gates + ((row * n4) << 2), tcs + ((row * n) << 2), c + at, dy + ((row * n) << 2), n, dh + at, dc + at, dz + ((row * n4) << 2));
    }
    // dh_prev = dz_t Uᵀ
    gemmABtRows(dz + ((((<usize>t) * B + b0) * n4) << 2), n4, U, n4, dh + (((<usize>b0) * n) << 2), n, b1 - b0, n, n4, 0, false);
  }
}

/**
 * The attention decoder (src/models/attention.ts) over Ty output steps, float32, batch B: encoder
 * states a [B, Tx, F], their attention keys [B, Tx, e] (a·W_a + b, computed by the caller), WsT
 * the attention's s-kernel transposed [e, n], v the score kernel [e] and vb its bias, WcT the
 * LSTM kernel transposed [4n, F], bc its bias [4n], UT its recurrent kernel transposed [4n, n].
 * Each step t, from s_t (s_0 = c_0 = 0):
 *   hidden = tanh(keys + s_t·Ws); energy = (linear ? id : relu)(hidden·v + vb); α = softmax over Tx
 *   context = Σ α·a; z = context·Wc + bc + s_t·U; the LSTM cell gives s_(t+1), c_(t+1).
 * Writes S and C [Ty + 1, B, n] (row 0 zero on entry), and, for the backward pass, hidden
 * [Ty, B, Tx, e], energy and alpha [Ty, B, Tx], context [Ty, B, F], gates [Ty, B, 4n] and tcs
 * [Ty, B, n]. z [B, 4n] and sp [B, e] are room to work in.
 */
export function attentionForward(
  a: usize, keys: usize, WsT: usize, v: usize, vb: f32, WcT: usize, bc: usize, UT: usize,
  B: i32, Tx: i32, F: i32, e: i32, n: i32, Ty: i32, linear: bool,
  S: usize, C: usize, hidden: usize, energy: usize, alpha: usize, context: usize, gates: usize, tcs: usize, z: usize, sp: usize,
): void {
  const n4 = 4 * n;
  const step = ((<usize>B) * n) << 2;
  for (let t = 0; t < Ty; t++) {
    const s = S + (<usize>t) * step;
    const c = C + (<usize>t) * step;
    gemmABt32(s, n, WsT, n, sp, e, B, e, n, 0, false);
    for (let b = 0; b < B; b++) {
      const row = (<usize>t) * B + b;
      const spb = sp + (((<usize>b) * e) << 2);
      const en = energy + ((row * Tx) << 2);
      const al = alpha + ((row * Tx) << 2);
      let max: f32 = -Infinity;
      for (let i = 0; i < Tx; i++) {
        const kb = keys + ((((<usize>b) * Tx + i) * e) << 2);
        const hb = hidden + (((row * Tx + i) * e) << 2);
        let k = 0;
        for (; k + 3 < e; k += 4) {
          const o = (<usize>k) << 2;
          v128.store(hb + o, tanhV(f32x4.add(v128.load(kb + o), v128.load(spb + o))));
        }
        for (; k < e; k++) {
          const o = (<usize>k) << 2;
          store<f32>(hb + o, tanh32(load<f32>(kb + o) + load<f32>(spb + o)));
        }
        let x = dot32(hb, v, e) + vb;
        if (!linear && x < 0) x = 0;
        store<f32>(en + ((<usize>i) << 2), x);
        if (x > max) max = x;
      }
      let sum: f32 = 0;
      for (let i = 0; i < Tx; i++) {
        const x = exp32(load<f32>(en + ((<usize>i) << 2)) - max);
        store<f32>(al + ((<usize>i) << 2), x);
        sum += x;
      }
      const ctx = context + ((row * F) << 2);
      memory.fill(ctx, 0, (<usize>F) << 2);
      for (let i = 0; i < Tx; i++) {
        const w = load<f32>(al + ((<usize>i) << 2)) / sum;
        store<f32>(al + ((<usize>i) << 2), w);
        axpy32(ctx, a + ((((<usize>b) * Tx + i) * F) << 2), w, F);
      }
    }
    const ctxT = context + (((<usize>t) * B * F) << 2);
    gemmABt32(ctxT, F, WcT, F, z, n4, B, n4, F, bc, false);
    gemmABt32(s, n, UT, n, z, n4, B, n4, n, 0, true);
    for (let b = 0; b < B; b++) {
      const row = (<usize>t) * B + b;
      const at = ((<usize>b) * n) << 2;
      lstmCell(z + (((<usize>b) * n4) << 2), n, c + at, gates + ((row * n4) << 2), tcs + ((row * n) << 2), c + step + at, s + step + at);
    }
  }
}

/** y[0..n) += w · x[0..n) (float32). */
@inline
function axpy32(y: usize, x: usize, w: f32, n: i32): void {
  const ww = f32x4.splat(w);
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const o = (<usize>k) << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(ww, v128.load(x + o))));
  }
  for (; k < n; k++) {
    const o = (<usize>k) << 2;
    store<f32>(y + o, load<f32>(y + o) + w * load<f32>(x + o));
  }
}

/**
 * attentionForward backwards through all Ty steps, for what it saved: dOut [B, Ty, n + Tx] is
 * the gradient of each step's [s_(t+1) ; α_t]; Ws [n, e], Wc [F, 4n] and U [n, 4n] in their own
 * layouts. Adds into da [B, Tx, F], dkeys [B, Tx, e], dv [e] and dvb [1] (zero on entry) and
 * writes, per step, dz [Ty, B, 4n] (of the LSTM's pre-activations) and dsp [Ty, B, e] (of
 * s_t·Ws), from which the caller makes the weight gradients as products over all steps. dh, dc
 * [B, n], dctx [B, F] and dal [Tx] are room to work in (zero on entry).
 */
export function attentionBackward(
  dOut: usize, a: usize, v: usize, Ws: usize, Wc: usize, U: usize,
  B: i32, Tx: i32, F: i32, e: i32, n: i32, Ty: i32, linear: bool,
  C: usize, hidden: usize, energy: usize, alpha: usize, gates: usize, tcs: usize,
  da: usize, dkeys: usize, dv: usize, dvb: usize, dz: usize, dsp: usize, dh: usize, dc: usize, dctx: usize, dal: usize,
): void {
  const n4 = 4 * n;
  const W = n + Tx;
  const step = ((<usize>B) * n) << 2;
  let dvbSum: f32 = 0;
  for (let t = Ty - 1; t >= 0; t--) {
    const c = C + (<usize>t) * step; // c_t, where step t started
    const dzT = dz + (((<usize>t) * B * n4) << 2);
    for (let b = 0; b < B; b++) {
      const row = (<usize>t) * B + b;
      const at = ((<usize>b) * n) << 2;
      const d = dOut + ((((<usize>b) * Ty + t) * W) << 2);
      lstmCellBackward(gates + ((row * n4) << 2), tcs + ((row * n) << 2), c + at, d, n, dh + at, dc + at, dzT + (((<usize>b) * n4) << 2));
    }
    gemmABt32(dzT, n4, Wc, n4, dctx, F, B, F, n4, 0, false); // d context = dz Wcᵀ
    gemmABt32(dzT, n4, U, n4, dh, n, B, n, n4, 0, false); // d s_t through the LSTM = dz Uᵀ
    const dspT = dsp + (((<usize>t) * B * e) << 2);
    for (let b = 0; b < B; b++) {
      const row = (<usize>t) * B + b;
      const al = alpha + ((row * Tx) << 2);
      const en = energy + ((row * Tx) << 2);
      const dcb = dctx + (((<usize>b) * F) << 2);
      const dAl = dOut + (((((<usize>b) * Ty + t) * W) + n) << 2);
      let weighted: f32 = 0;
      for (let i = 0; i < Tx; i++) {
        const ab = a + ((((<usize>b) * Tx + i) * F) << 2);
        const w = load<f32>(al + ((<usize>i) << 2));
        const g = dot32(dcb, ab, F) + load<f32>(dAl + ((<usize>i) << 2));
        store<f32>(dal + ((<usize>i) << 2), g);
        weighted += w * g;
        axpy32(da + ((((<usize>b) * Tx + i) * F) << 2), dcb, w, F);
      }
      const dspb = dspT + (((<usize>b) * e) << 2);
      memory.fill(dspb, 0, (<usize>e) << 2);
      for (let i = 0; i < Tx; i++) {
        let g = load<f32>(al + ((<usize>i) << 2)) * (load<f32>(dal + ((<usize>i) << 2)) - weighted);
        if (!linear && load<f32>(en + ((<usize>i) << 2)) <= 0) g = 0;
        if (g == 0) continue;
        dvbSum += g;
        const hb = hidden + (((row * Tx + i) * e) << 2);
        const dkb = dkeys + ((((<usize>b) * Tx + i) * e) << 2);
        for (let k = 0; k < e; k++) {
          const o = (<usize>k) << 2;
          const h = load<f32>(hb + o);
          store<f32>(dv + o, load<f32>(dv + o) + g * h);
          const dp = g * load<f32>(v + o) * (1 - h * h);
          store<f32>(dkb + o, load<f32>(dkb + o) + dp);
          store<f32>(dspb + o, load<f32>(dspb + o) + dp);
        }
      }
    }
    gemmABt32(dspT, e, Ws, e, dh, n, B, n, e, 0, true); // + d s_t through the attention = dsp Wsᵀ
  }
  store<f32>(dvb, load<f32>(dvb) + dvbSum);
}

// ---- a helper thread ----------------------------------------------------------------------------
// With a shared memory, a second instance of this module runs helperLoop() in a worker thread
// (src/core/kernels.ts starts it) and takes half the rows of each large product, or half the
// examples of a batch through a whole LSTM or GRU sequence (each example's recursion is its own,
// so that is one hand-off per sequence): the caller posts the job into a control block in memory,
// works on its own half, and waits for the helper's.
// Below ~0.4 M multiply-adds a product stays on one thread (a hand-off costs ~10-50 µs).

/** the control block: i32 words below the arrays' base (65536), in the first page */
const CTRL: usize = 65536 - 256;
const SEQ: usize = CTRL; // job number, bumped by the caller
const DONE: usize = CTRL + 64; // job number the helper finished last (own cache line)
const ARGS: usize = CTRL + 128; // job kind then its arguments
const READY: usize = CTRL + 192; // 1 once the helper waits for jobs
const JOB_ABT = 1;
const JOB_STRIDED = 2;
const JOB_LSTM_FORWARD = 3;
const JOB_LSTM_BACKWARD = 4;
const JOB_GRU_FORWARD = 5;
const JOB_GRU_BACKWARD = 6;
const MIN_SPLIT: i64 = 400000;

let helpers = 0;

/** 1: a helper thread runs helperLoop on this memory; 0: none (all work on the caller's thread). */
export function setHelpers(n: i32): void {
  helpers = n;
}

/** Whether a helper thread is waiting for jobs (1) or not (0). */
export function helperWaiting(): i32 {
  return helpers != 0 && atomic.load<i32>(READY) != 0 ? 1 : 0;
}

/** The row where the caller's share of an M-row product ends (a multiple of 4), or 0: do not split. */
@inline
function split(M: i32, N: i32, K: i32): i32 {
  if (helpers == 0 || M < 8 || <i64>M * N * K < MIN_SPLIT || atomic.load<i32>(READY) == 0) return 0;
  return (M >> 1) & ~3;
}

function post(kind: i32, p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32, p6: i32, p7: i32, p8: i32, p9: i32, p10: i32, p11: i32, p12: i32, p13: i32): void {
  store<i32>(ARGS, kind);
  store<i32>(ARGS + 4, p0);
  store<i32>(ARGS + 8, p1);
  store<i32>(ARGS + 12, p2);
  store<i32>(ARGS + 16, p3);
  store<i32>(ARGS + 20, p4);
  store<i32>(ARGS + 24, p5);
  store<i32>(ARGS + 28, p6);
  store<i32>(ARGS + 32, p7);
  store<i32>(ARGS + 36, p8);
  store<i32>(ARGS + 40, p9);
  store<i32>(ARGS + 44, p10);
  store<i32>(ARGS + 48, p11);
  store<i32>(ARGS + 52, p12);
  store<i32>(ARGS + 56, p13);
  atomic.add<i32>(SEQ, 1);
  atomic.notify(SEQ, 1);
}

/** argument i of the job posted last */
@inline
function arg(i: i32): i32 {
  return load<i32>(ARGS + 4 + ((<usize>i) << 2));
}

/** Waits until the helper has finished the job posted last: spins first (the halves take about as long), then sleeps. */
function joinHelper(): void {
  const job = atomic.load<i32>(SEQ);
  let spins = 0;
  while (atomic.load<i32>(DONE) != job) {
    if (++spins > 20000) atomic.wait<i32>(DONE, atomic.load<i32>(DONE), 1000000);
  }
}

function run(kind: i32): void {
  if (kind == JOB_ABT) {
    gemmABtRows(<usize>arg(0), arg(1), <usize>arg(2), arg(3), <usize>arg(4), arg(5), arg(6), arg(7), arg(8), <usize>arg(9), arg(10) != 0);
  } else if (kind == JOB_STRIDED) {
    gemmStridedRows(<usize>arg(0), arg(1), arg(2), <usize>arg(3), arg(4), <usize>arg(5), arg(6), arg(7), arg(8), arg(9), arg(10) != 0);
  } else if (kind == JOB_LSTM_FORWARD) {
    lstmForwardRows(<usize>arg(0), <usize>arg(1), arg(2), arg(3), arg(4), <usize>arg(5), <usize>arg(6), <usize>arg(7), <usize>arg(8), <usize>arg(9), arg(10), arg(11));
  } else if (kind == JOB_LSTM_BACKWARD) {
    lstmBackwardRows(<usize>arg(0), <usize>arg(1), arg(2), arg(3), arg(4), <usize>arg(5), <usize>arg(6), <usize>arg(7), <usize>arg(8), <usize>arg(9), <usize>arg(10), arg(11), arg(12));
  } else if (kind == JOB_GRU_FORWARD) {
    gruForwardRows(<usize>arg(0), <usize>arg(1), <usize>arg(2), arg(3), arg(4), arg(5), <usize>arg(6), <usize>arg(7), <usize>arg(8), <usize>arg(9), <usize>arg(10), arg(11), arg(12));
  } else if (kind == JOB_GRU_BACKWARD) {
    gruBackwardRows(<usize>arg(0), <usize>arg(1), arg(2), arg(3), arg(4), <usize>arg(5), <usize>arg(6), <usize>arg(7), <usize>arg(8), <usize>arg(9), <usize>arg(10), <usize>arg(11), arg(12), arg(13));
  }
}

/** The helper thread's loop: waits for a job (spinning a while first: jobs come in bursts), runs it, says so. */
export function helperLoop(): void {
  let seen = atomic.load<i32>(SEQ);
  atomic.store<i32>(READY, 1);
  while (true) {
    let spins = 0;
    while (atomic.load<i32>(SEQ) == seen) {
      if (++spins > 5000) atomic.wait<i32>(SEQ, seen, -1);
    }
    seen = atomic.load<i32>(SEQ);
    run(load<i32>(ARGS));
    atomic.store<i32>(DONE, seen);
    atomic.notify(DONE, 1);
  }
}
