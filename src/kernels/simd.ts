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
        s00 = f32x4.add(s00, f32x4.mul(x0, y0));
        s01 = f32x4.add(s01, f32x4.mul(x0, y1));
        s02 = f32x4.add(s02, f32x4.mul(x0, y2));
        s03 = f32x4.add(s03, f32x4.mul(x0, y3));
        s10 = f32x4.add(s10, f32x4.mul(x1, y0));
        s11 = f32x4.add(s11, f32x4.mul(x1, y1));
        s12 = f32x4.add(s12, f32x4.mul(x1, y2));
        s13 = f32x4.add(s13, f32x4.mul(x1, y3));
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

@inline
function sigmoid32(x: f32): f32 {
  return 1 / (1 + Mathf.exp(-x));
}

/**
 * A GRU (Keras reset_after layout, gates z, r, h) over T steps of a batch of B, n units, float32:
 * proj is x·W + b_in for every step [T, B, 3n], UT the recurrent kernel transposed [3n, n], bRec
 * its bias [3n]; hs [T + 1, B, n] holds h_0 on entry and gets h_1 ... h_T. Saved for the
 * backward pass: zr [T, B, 2n] (activated), cand [T, B, n], hh [T, B, n] (h·U_h + b_h).
 * hp [B, 3n] is room to work in. The same arithmetic as gruSequence in src/models/recurrent.ts.
 */
export function gruForward(proj: usize, UT: usize, bRec: usize, T: i32, B: i32, n: i32, hs: usize, zr: usize, cand: usize, hh: usize, hp: usize): void {
  const n3 = 3 * n;
  for (let t = 0; t < T; t++) {
    const h = hs + (((<usize>t) * B * n) << 2);
    const hNext = h + (((<usize>B) * n) << 2);
    gemmABt32(h, n, UT, n, hp, n3, B, n3, n, bRec, false);
    for (let b = 0; b < B; b++) {
      const p = proj + ((((<usize>t) * B + b) * n3) << 2);
      const q = hp + (((<usize>b) * n3) << 2);
      const g = zr + ((((<usize>t) * B + b) * 2 * n) << 2);
      const c = cand + ((((<usize>t) * B + b) * n) << 2);
      const hv = hh + ((((<usize>t) * B + b) * n) << 2);
      const hb = h + (((<usize>b) * n) << 2);
      const hn = hNext + (((<usize>b) * n) << 2);
      for (let k = 0; k < 2 * n; k++) {
        const o = (<usize>k) << 2;
        store<f32>(g + o, sigmoid32(load<f32>(p + o) + load<f32>(q + o)));
      }
      for (let k = 0; k < n; k++) {
        const o = (<usize>k) << 2;
        const z = load<f32>(g + o);
        const r = load<f32>(g + (((<usize>n + k)) << 2));
        const hhv = load<f32>(q + (((<usize>2 * n + k)) << 2));
        store<f32>(hv + o, hhv);
        const cv = Mathf.tanh(load<f32>(p + (((<usize>2 * n + k)) << 2)) + r * hhv);
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
  const n3 = 3 * n;
  for (let t = T - 1; t >= 0; t--) {
    const h = hs + (((<usize>t) * B * n) << 2);
    for (let b = 0; b < B; b++) {
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
    gemmABt32(dHp + (((<usize>t) * B * n3) << 2), n3, U, n3, dh, n, B, n, n3, 0, true);
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
  const n4 = 4 * n;
  for (let t = 0; t < T; t++) {
    const h = hs + (((<usize>t) * B * n) << 2);
    const c = cs + (((<usize>t) * B * n) << 2);
    const step = ((<usize>B) * n) << 2;
    gemmABt32(h, n, UT, n, z, n4, B, n4, n, 0, false);
    for (let b = 0; b < B; b++) {
      const row = (<usize>t) * B + b;
      const zb = z + (((<usize>b) * n4) << 2);
      const p = proj + ((row * n4) << 2);
      const g = gates + ((row * n4) << 2);
      const tc = tcs + ((row * n) << 2);
      const cb = c + (((<usize>b) * n) << 2);
      const hn = h + step + (((<usize>b) * n) << 2);
      const cn = c + step + (((<usize>b) * n) << 2);
      for (let k = 0; k < n; k++) {
        const o = (<usize>k) << 2;
        const on = ((<usize>n) << 2) + o;
        const i = sigmoid32(load<f32>(zb + o) + load<f32>(p + o));
        const f = sigmoid32(load<f32>(zb + on) + load<f32>(p + on));
        const gg = Mathf.tanh(load<f32>(zb + on + ((<usize>n) << 2)) + load<f32>(p + on + ((<usize>n) << 2)));
        const og = sigmoid32(load<f32>(zb + on + ((<usize>n) << 3)) + load<f32>(p + on + ((<usize>n) << 3)));
        store<f32>(g + o, i);
        store<f32>(g + on, f);
        store<f32>(g + on + ((<usize>n) << 2), gg);
        store<f32>(g + on + ((<usize>n) << 3), og);
        const cv = f * load<f32>(cb + o) + i * gg;
        const tv = Mathf.tanh(cv);
        store<f32>(cn + o, cv);
        store<f32>(tc + o, tv);
        store<f32>(hn + o, og * tv);
      }
    }
  }
}

/**
 * The LSTM's backward pass through time, for what lstmForward saved: dy [T, B, n] is the gradient
 * of every h_t, U the recurrent kernel [n, 4n]. Writes dz [T, B, 4n], the gradient of the gate
 * pre-activations (= of proj); dh and dc [B, n] are room to work in (zero on entry).
 */
export function lstmBackward(dy: usize, U: usize, T: i32, B: i32, n: i32, cs: usize, gates: usize, tcs: usize, dz: usize, dh: usize, dc: usize): void {
  const n4 = 4 * n;
  for (let t = T - 1; t >= 0; t--) {
    const c = cs + (((<usize>t) * B * n) << 2); // c_(t-1)
    for (let b = 0; b < B; b++) {
      const row = (<usize>t) * B + b;
      const g = gates + ((row * n4) << 2);
      const tc = tcs + ((row * n) << 2);
      const d = dy + ((row * n) << 2);
      const dzb = dz + ((row * n4) << 2);
      const cb = c + (((<usize>b) * n) << 2);
      const dhb = dh + (((<usize>b) * n) << 2);
      const dcb = dc + (((<usize>b) * n) << 2);
      for (let k = 0; k < n; k++) {
        const o = (<usize>k) << 2;
        const on = ((<usize>n) << 2) + o;
        const i = load<f32>(g + o);
        const f = load<f32>(g + on);
        const gg = load<f32>(g + on + ((<usize>n) << 2));
        const og = load<f32>(g + on + ((<usize>n) << 3));
        const tv = load<f32>(tc + o);
        const dhv = load<f32>(d + o) + load<f32>(dhb + o);
        const dcv = load<f32>(dcb + o) + dhv * og * (1 - tv * tv);
        store<f32>(dzb + o, dcv * gg * i * (1 - i));
        store<f32>(dzb + on, dcv * load<f32>(cb + o) * f * (1 - f));
        store<f32>(dzb + on + ((<usize>n) << 2), dcv * i * (1 - gg * gg));
        store<f32>(dzb + on + ((<usize>n) << 3), dhv * tv * og * (1 - og));
        store<f32>(dcb + o, dcv * f);
      }
    }
    // dh_prev = dz_t Uᵀ
    gemmABt32(dz + (((<usize>t) * B * n4) << 2), n4, U, n4, dh, n, B, n, n4, 0, false);
  }
}
