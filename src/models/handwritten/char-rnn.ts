/**
 * The course's character-level RNN language model (dinosaur names), by hand: one sequence per SGD
 * step (m = 1), summed cross-entropy, BPTT, every gradient clipped element-wise, plain SGD, and the
 * hidden state carried from one name to the next. Same equations as rnn.ts; written for a single
 * example with preallocated Float64 buffers, because this loop runs tens of thousands of times.
 *
 *   a⟨t⟩ = tanh(Wax x⟨t⟩ + Waa a⟨t-1⟩ + b)      ŷ⟨t⟩ = softmax(Wya a⟨t⟩ + by)
 */
import { kernels, layout } from '../../core/kernels';
import { NumpyRandom } from '../../core/numpy-random';

export interface CharRnnParams {
  Wax: Float64Array; // (n_a, V)
  Waa: Float64Array; // (n_a, n_a)
  Wya: Float64Array; // (V, n_a)
  b: Float64Array; // (n_a)
  by: Float64Array; // (V)
}

export const PARAM_NAMES = ['Wax', 'Waa', 'Wya', 'b', 'by'] as const;

/** The course's initialize_parameters: np.random.seed(1); Wax, Waa, Wya = randn · 0.01; biases 0. */
export function initCharRnn(nA: number, vocab: number, seed = 1): CharRnnParams {
  const r = new NumpyRandom(seed);
  const small = (rows: number, cols: number) => r.randn(rows, cols).map((v) => v * 0.01);
  return { Wax: small(nA, vocab), Waa: small(nA, nA), Wya: small(vocab, nA), b: new Float64Array(nA), by: new Float64Array(vocab) };
}

/** Σ_k W[row + k] · v[k] with four running sums (a single sum waits on each add). */
function dot(W: Float64Array, row: number, v: Float64Array, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += W[row + k] * v[k];
    s1 += W[row + k + 1] * v[k + 1];
    s2 += W[row + k + 2] * v[k + 2];
    s3 += W[row + k + 3] * v[k + 3];
  }
  for (; k < n; k++) s0 += W[row + k] * v[k];
  return s0 + s1 + (s2 + s3);
}

export class CharRnn {
  readonly nA: number;
  readonly V: number;
  readonly grads: CharRnnParams;
  private a: Float64Array[] = []; // a⟨t⟩ per step
  private y: Float64Array[] = []; // ŷ⟨t⟩ per step
  private readonly da: Float64Array;
  private readonly daNext: Float64Array;
  private readonly dy: Float64Array;

  constructor(readonly p: CharRnnParams) {
    this.nA = p.b.length;
    this.V = p.by.length;
    this.grads = { Wax: new Float64Array(p.Wax.length), Waa: new Float64Array(p.Waa.length), Wya: new Float64Array(p.Wya.length), b: new Float64Array(this.nA), by: new Float64Array(this.V) };
    this.da = new Float64Array(this.nA);
    this.daNext = new Float64Array(this.nA);
    this.dy = new Float64Array(this.V);
  }

  private buffers(T: number): void {
    while (this.a.length < T) {
      this.a.push(new Float64Array(this.nA));
      this.y.push(new Float64Array(this.V));
    }
  }

  /** a = tanh(Wax[:, x] + Waa aPrev + b) (x: a character index, or -1 for the zero vector); y = softmax(Wya a + by). */
  step(x: number, aPrev: Float64Array, a: Float64Array, y: Float64Array, temperature = 1): void {
    const { Wax, Waa, Wya, b, by } = this.p;
    const { nA, V } = this;
    for (let i = 0; i < nA; i++) a[i] = Math.tanh(b[i] + (x >= 0 ? Wax[i * V + x] : 0) + dot(Waa, i * nA, aPrev, nA));
    let max = -Infinity;
    for (let j = 0; j < V; j++) {
      y[j] = (by[j] + dot(Wya, j * nA, a, nA)) / temperature;
      if (y[j] > max) max = y[j];
    }
    let sum = 0;
    for (let j = 0; j < V; j++) sum += y[j] = Math.exp(y[j] - max);
    for (let j = 0; j < V; j++) y[j] /= sum;
  }

  /** Forward over X (X[0] = -1: the zero vector) with targets Y; returns the summed cross-entropy. */
  forward(X: readonly number[], Y: readonly number[], a0: Float64Array): number {
    this.buffers(X.length);
    let loss = 0;
    for (let t = 0; t < X.length; t++) {
      this.step(X[t], t === 0 ? a0 : this.a[t - 1], this.a[t], this.y[t]);
      loss -= Math.log(this.y[t][Y[t]]);
    }
    return loss;
  }

  /** BPTT into this.grads (overwritten), for the sequence forward() just ran. */
  backward(X: readonly number[], Y: readonly number[], a0: Float64Array): void {
    const { Waa, Wya } = this.p;
    const { Wax: dWax, Waa: dWaa, Wya: dWya, b: db, by: dby } = this.grads;
    const { nA, V, da, daNext, dy } = this;
    dWax.fill(0);
    dWaa.fill(0);
    dWya.fill(0);
    db.fill(0);
    dby.fill(0);
    daNext.fill(0);
    for (let t = X.length - 1; t >= 0; t--) {
      const a = this.a[t];
      const aPrev = t === 0 ? a0 : this.a[t - 1];
      dy.set(this.y[t]);
      dy[Y[t]] -= 1;
      // dWya += dy aᵀ and da = Wyaᵀ dy + da_next, in one pass over Wya
      da.set(daNext);
      for (let j = 0; j < V; j++) {
        const dyj = dy[j];
        dby[j] += dyj;
        const row = j * nA;
        let k = 0;
        for (; k + 1 < nA; k += 2) {
          dWya[row + k] += dyj * a[k];
          dWya[row + k + 1] += dyj * a[k + 1];
          da[k] += Wya[row + k] * dyj;
          da[k + 1] += Wya[row + k + 1] * dyj;
        }
        if (k < nA) {
          dWya[row + k] += dyj * a[k];
          da[k] += Wya[row + k] * dyj;
        }
      }
      // through tanh; dWaa += daraw a_prevᵀ and da_next = Waaᵀ daraw, in one pass over Waa
      daNext.fill(0);
      const xt = X[t];
      for (let i = 0; i < nA; i++) {
        const d = (1 - a[i] * a[i]) * da[i];
        db[i] += d;
        if (xt >= 0) dWax[i * V + xt] += d;
        const row = i * nA;
        let k = 0;
        for (; k + 1 < nA; k += 2) {
          dWaa[row + k] += d * aPrev[k];
          dWaa[row + k + 1] += d * aPrev[k + 1];
          daNext[k] += Waa[row + k] * d;
          daNext[k + 1] += Waa[row + k + 1] * d;
        }
        if (k < nA) {
          dWaa[row + k] += d * aPrev[k];
          daNext[k] += Waa[row + k] * d;
        }
      }
    }
  }

  /**
   * The course's optimize(): forward, backward, clip every gradient to [-clip, clip], SGD step.
   * Returns the loss; the last hidden state is written into aPrev (carried to the next name).
   * It runs as one call into seqlab's SIMD kernels (charRnnOptimize in src/kernels/simd.ts: the
   * same equations as forward() and backward() here, two float64 lanes at a time); the clipped
   * gradients are left in this.grads.
   */
  optimize(X: readonly number[], Y: readonly number[], aPrev: Float64Array, lr: number, clip: number): number {
    const { nA, V } = this;
    const T = X.length;
    const sizes = PARAM_NAMES.map((k) => this.p[k].length);
    const total = sizes.reduce((s, n) => s + n, 0);
    const [pp, gp, xp, yp, ap, wp] = layout([total * 8, total * 8, T * 4, T * 4, nA * 8, (T * (nA + V) + 2 * nA + V) * 8], false); // the kernel writes all it reads
    const buffer = kernels().memory.buffer;
    const params = new Float64Array(buffer, pp, total);
    let at = 0;
    for (const k of PARAM_NAMES) {
      params.set(this.p[k], at);
      at += this.p[k].length;
    }
    new Int32Array(buffer, xp, T).set(X);
    new Int32Array(buffer, yp, T).set(Y);
    const a = new Float64Array(buffer, ap, nA);
    a.set(aPrev);
    const loss = kernels().charRnnOptimize(pp, gp, nA, V, xp, yp, T, ap, lr, clip, wp);
    const grads = new Float64Array(buffer, gp, total);
    at = 0;
    for (const k of PARAM_NAMES) {
      this.p[k].set(params.subarray(at, at + this.p[k].length));
      this.grads[k].set(grads.subarray(at, at + this.p[k].length));
      at += this.p[k].length;
    }
    aPrev.set(a);
    return loss;
  }

  /**
   * The course's sample(): start from the zero vector (or after feeding `prime`), draw each next
   * character from the softmax (np.random.seed(counter + seed) before each draw, as the course),
   * feed it back, stop at `stop` (newline) or after maxLen characters. temperature 0 is greedy.
   */
  sample(stop: number, seed: number, opts: { temperature?: number; prime?: number[]; maxLen?: number } = {}): number[] {
    const { temperature = 1, prime = [], maxLen = 50 } = opts;
    const rng = new NumpyRandom(0);
    let a = new Float64Array(this.nA);
    let next = new Float64Array(this.nA);
    const y = new Float64Array(this.V);
    let x = -1;
    for (const c of prime) {
      this.step(x, a, next, y);
      [a, next] = [next, a];
      x = c;
    }
    const out: number[] = [];
    for (let counter = 0; counter < maxLen; counter++) {
      this.step(x, a, next, y, temperature > 0 ? temperature : 1);
      [a, next] = [next, a];
      let idx: number;
      if (temperature <= 0) idx = y.indexOf(Math.max(...y));
      else {
        rng.seed((counter + seed + counter) >>> 0); // the course increments seed and counter together
        idx = rng.choice(y);
      }
      out.push(idx);
      if (idx === stop) return out;
      x = idx;
    }
    out.push(stop);
    return out;
  }

  /** Summed negative log-likelihood of a sequence (no update). */
  nll(X: readonly number[], Y: readonly number[]): number {
    return this.forward(X, Y, new Float64Array(this.nA));
  }
}
