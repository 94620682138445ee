/**
 * NumPy's legacy global generator (np.random.seed / rand / randn / choice), reproduced exactly so
 * the course's published values can be checked: MT19937 seeded like `np.random.seed(n)`, doubles
 * from two 32-bit draws, Gaussians by the polar method with the spare value kept for the next call.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class NumpyRandom {
  private readonly mt = new Uint32Array(N);
  private pos = N;
  private spareGauss: number | undefined;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** np.random.seed(n) for an integer 0 <= n < 2^32. */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError('seed must be an integer in [0, 2^32)');
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
    this.spareGauss = undefined;
  }

  /** One 32-bit draw of MT19937 (genrand_int32). */
  uint32(): number {
    const mt = this.mt;
    if (this.pos >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.pos = 0;
    }
    let y = mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits (np.random.random_sample). */
  random(): number {
    const a = this.uint32() >>> 5;
    const b = this.uint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (legacy gauss: polar method, second value kept). */
  gauss(): number {
    if (this.spareGauss !== undefined) {
      const g = this.spareGauss;
      this.spareGauss = undefined;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.spareGauss = f * x1;
    return f * x2;
  }

  /** np.random.randn(...shape): C-order values. */
  randn(...shape: number[]): Float64Array {
    const out = new Float64Array(shape.reduce((p, s) => p * s, 1));
    for (let i = 0; i < out.length; i++) out[i] = this.gauss();
    return out;
  }

  /** np.random.rand(...shape). */
  rand(...shape: number[]): Float64Array {
    const out = new Float64Array(shape.reduce((p, s) => p * s, 1));
    for (let i = 0; i < out.length; i++) out[i] = this.random();
    return out;
  }

  /** A uniform integer in [0, max] by NumPy's masked rejection sampling (random_interval). */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    let value: number;
    do value = (this.uint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /** np.random.shuffle(list), in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.interval(i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** np.random.choice(len(p), p=p): an index drawn with probabilities p (normalised like NumPy). */
  choice(p: ArrayLike<number>): number {
    const cdf = new Float64Array(p.length);
    let sum = 0;
    for (let i = 0; i < p.length; i++) cdf[i] = sum += p[i];
    for (let i = 0; i < cdf.length; i++) cdf[i] /= sum; // as NumPy: cdf /= cdf[-1]
    const u = this.random();
    // searchsorted(cdf, u, side='right'): the first index whose cdf exceeds u
    let lo = 0;
    let hi = cdf.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] <= u) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, cdf.length - 1);
  }
}
