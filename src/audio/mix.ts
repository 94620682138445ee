/**
 * Mixing for synthesized training audio, on mono Float32Array signals in [-1, 1]: levels in dBFS,
 * overlay at an offset, noise at a signal-to-noise ratio, coloured noises, a cheap room reverb and a
 * synthesized chime (no third-party sound file). Pure code; randomness comes in as a function.
 */

/** RMS level in dB relative to full scale (a full-scale sine is −3 dBFS); −Infinity for silence. */
export function dbfs(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return 10 * Math.log10(sum / Math.max(1, x.length));
}

/** A copy scaled to the target RMS level (silence stays silent). */
export function gainTo(x: Float32Array, targetDbfs: number): Float32Array {
  const now = dbfs(x);
  if (!Number.isFinite(now)) return Float32Array.from(x);
  return scaled(x, 10 ** ((targetDbfs - now) / 20));
}

/** x · g, as a new array (a plain loop: Float32Array.from with a function is ~20× slower). */
export function scaled(x: ArrayLike<number>, g: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * g;
  return out;
}

/** Adds `clip` into `into` starting at sample `offset` (in place; what falls past the end is dropped). */
export function overlay(into: Float32Array, clip: ArrayLike<number>, offset: number): Float32Array {
  for (let i = 0; i < clip.length && offset + i < into.length; i++) if (offset + i >= 0) into[offset + i] += clip[i];
  return into;
}

/** signal + noise scaled so that 10·log10(P_signal / P_noise) = snrDb. */
export function addNoise(signal: Float32Array, noise: ArrayLike<number>, snrDb: number): Float32Array {
  const ps = 10 ** (dbfs(signal) / 10);
  const pn = 10 ** (dbfs(noise) / 10);
  const g = pn > 0 ? Math.sqrt(ps / (pn * 10 ** (snrDb / 10))) : 0;
  const m = noise.length;
  if (!m) return Float32Array.from(signal);
  const out = new Float32Array(signal.length);
  // the noise repeats when shorter than the signal: in stretches of m, not a modulo per sample
  for (let from = 0; from < out.length; from += m) {
    const to = Math.min(out.length, from + m);
    for (let i = from; i < to; i++) out[i] = signal[i] + g * noise[i - from];
  }
  return out;
}

/** White, pink (Voss-McCartney-like filter, −3 dB/octave) or brown (integrated, −6 dB/octave) noise at −20 dBFS. */
export function colouredNoise(n: number, colour: 'white' | 'pink' | 'brown', random: () => number): Float32Array {
  const out = new Float32Array(n);
  let b0 = 0, b1 = 0, b2 = 0, brown = 0;
  // per sample, a xorshift32 seeded from `random` (a call per sample was most of this function's time)
  let state = (Math.floor(random() * 0xffffffff) | 1) >>> 0;
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const w = (state >>> 0) / 2147483648 - 1;
    if (colour === 'white') out[i] = w;
    else if (colour === 'pink') {
      // Paul Kellet's economy pink filter
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      out[i] = b0 + b1 + b2 + w * 0.1848;
    } else {
      brown = (brown + 0.02 * w) / 1.02;
      out[i] = brown;
    }
  }
  return gainTo(out, -20);
}

/**
 * A cheap room (Schroeder's reverberator): four parallel feedback combs with random delays of
 * 25-50 ms whose gains make the tail fall 60 dB in rt60 seconds, then two all-passes that thicken
 * the echoes; mixed `wet` (0-1) with the dry signal. O(6 n). Length unchanged.
 *
 * All six filters run in one pass over the signal (each is causal), each keeping only its own delay's
 * worth of past in a ring, every stage rounded to float32 as a stage-by-stage version storing each
 * into a Float32Array would be: the result is bit for bit that version's (test/audio.test.ts keeps
 * it as the reference).
 */
export function reverb(x: Float32Array, sampleRate: number, rt60: number, wet: number, random: () => number): Float32Array {
  const n = x.length;
  const f32 = Math.fround;
  const comb = (): [number, number] => {
    const d = Math.max(1, Math.round((0.025 + 0.025 * random()) * sampleRate));
    return [d, 10 ** ((-3 * d) / (rt60 * sampleRate))];
  };
  const [[d0, g0], [d1, g1], [d2, g2], [d3, g3]] = [comb(), comb(), comb(), comb()];
  const [e0, e1] = [5, 1.7].map((ms) => Math.max(1, Math.round((ms / 1000) * sampleRate)));
  const g = 0.7;
  // each filter's past, in a ring as long as its delay (zeros before the start: no echo yet)
  const [r0, r1, r2, r3] = [new Float32Array(d0), new Float32Array(d1), new Float32Array(d2), new Float32Array(d3)];
  const [sumIn, pass1Out, pass2In, pass2Out] = [new Float32Array(e0), new Float32Array(e0), new Float32Array(e1), new Float32Array(e1)];
  let j0 = 0, j1 = 0, j2 = 0, j3 = 0, k0 = 0, k1 = 0;
  const tail = new Float32Array(n);
  let dry = 0;
  let wetEnergy = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    dry += xi * xi;
    const a = f32(xi + g0 * r0[j0]);
    r0[j0] = a;
    if (++j0 === d0) j0 = 0;
    const b = f32(xi + g1 * r1[j1]);
    r1[j1] = b;
    if (++j1 === d1) j1 = 0;
    const c = f32(xi + g2 * r2[j2]);
    r2[j2] = c;
    if (++j2 === d2) j2 = 0;
    const d = f32(xi + g3 * r3[j3]);
    r3[j3] = d;
    if (++j3 === d3) j3 = 0;
    // the combs' sum, a quarter each, accumulated in float32 in this order
    const sum = f32(f32(f32(a * 0.25 + b * 0.25) + c * 0.25) + d * 0.25);
    const p = f32(-g * sum + (sumIn[k0] + g * pass1Out[k0]));
    sumIn[k0] = sum;
    pass1Out[k0] = p;
    if (++k0 === e0) k0 = 0;
    const v = f32(-g * p + (pass2In[k1] + g * pass2Out[k1]));
    pass2In[k1] = p;
    pass2Out[k1] = v;
    if (++k1 === e1) k1 = 0;
    tail[i] = v;
    wetEnergy += v * v;
  }
  // the tail at the dry signal's level, then mixed
  const level = Math.sqrt(dry / (wetEnergy || 1));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (1 - wet) * x[i] + wet * level * tail[i];
  return out;
}

/** A two-note chime (E6 then A6, bell-like partials, quick attack, exponential decay), ~0.6 s. */
export function chime(sampleRate: number, seconds = 0.6): Float32Array {
  const n = Math.floor(sampleRate * seconds);
  const out = new Float32Array(n);
  const notes = [{ f: 1318.5, start: 0 }, { f: 1760, start: 0.12 }];
  for (const { f, start } of notes) {
    const s0 = Math.floor(start * sampleRate);
    for (let i = s0; i < n; i++) {
      const t = (i - s0) / sampleRate;
      const env = Math.min(1, t / 0.005) * Math.exp(-t / 0.15);
      out[i] += env * (0.6 * Math.sin(2 * Math.PI * f * t) + 0.25 * Math.sin(2 * Math.PI * 2.76 * f * t) + 0.15 * Math.sin(2 * Math.PI * 5.4 * f * t));
    }
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  return Float32Array.from(out, (v) => (v / peak) * 0.7);
}

/**
 * A first-order low-pass (or high-pass: the signal minus its low-pass) at `cutoffHz`: a cheap
 * stand-in for the colour a microphone or a room gives a voice. Length unchanged.
 */
export function onePole(x: Float32Array, sampleRate: number, cutoffHz: number, kind: 'low' | 'high'): Float32Array {
  const a = Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
  const out = new Float32Array(x.length);
  let y = 0;
  for (let i = 0; i < x.length; i++) {
    y = (1 - a) * x[i] + a * y;
    out[i] = kind === 'low' ? y : x[i] - y;
  }
  return out;
}

/**
 * A Butterworth high-pass of even `order` at `cutoffHz` (|H(f)|² = 1 / (1 + (fc/f)^2n)): order/2
 * biquads (R. Bristow-Johnson's "Audio EQ Cookbook" high-pass, each with its Butterworth Q), run
 * from rest. What an AC-coupled microphone does to sound below its cutoff. Length unchanged.
 */
export function highPass(x: Float32Array, sampleRate: number, cutoffHz: number, order = 4): Float32Array {
  if (order < 2 || order % 2) throw new RangeError(`highPass: order must be even and at least 2, not ${order}`);
  const w = (2 * Math.PI * cutoffHz) / sampleRate;
  const cos = Math.cos(w);
  let out = Float32Array.from(x);
  for (let k = 0; k < order / 2; k++) {
    const q = 1 / (2 * Math.cos((Math.PI * (2 * k + 1)) / (2 * order)));
    const alpha = Math.sin(w) / (2 * q);
    const a0 = 1 + alpha;
    const b0 = (1 + cos) / 2 / a0, b1 = -(1 + cos) / a0, b2 = (1 + cos) / 2 / a0;
    const a1 = (-2 * cos) / a0, a2 = (1 - alpha) / a0;
    biquad(out, out, b0, b1, b2, a1, a2);
  }
  return out;
}

/** One biquad (normalized: a0 = 1) run from rest as a direct-form-I filter over `x` into `y` (which may be `x`). */
function biquad(x: Float32Array, y: Float32Array, b0: number, b1: number, b2: number, a1: number, a2: number): void {
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const r = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = v;
    y2 = y1;
    y1 = r;
    y[i] = r;
  }
}

/** One peaking band of a parametric equalizer: `db` of gain (or cut) centred on `hz`, `q` wide (higher is narrower). */
export interface EqBand {
  hz: number;
  q: number;
  db: number;
}

/**
 * A parametric equalizer: the bands in series, each a peaking biquad (R. Bristow-Johnson's "Audio
 * EQ Cookbook"), run as a direct-form-I filter. A random one stands in for the colour of an unknown
 * microphone and room, as audiomentations' SevenBandParametricEQ does for openWakeWord's training
 * audio. Length unchanged.
 */
export function parametricEq(x: Float32Array, sampleRate: number, bands: readonly EqBand[]): Float32Array {
  let out = x;
  for (const { hz, q, db } of bands) {
    const A = 10 ** (db / 40);
    const w = (2 * Math.PI * Math.min(hz, sampleRate * 0.49)) / sampleRate;
    const alpha = Math.sin(w) / (2 * q);
    const cos = Math.cos(w);
    const a0 = 1 + alpha / A;
    const b0 = (1 + alpha * A) / a0, b1 = (-2 * cos) / a0, b2 = (1 - alpha * A) / a0;
    const a1 = (-2 * cos) / a0, a2 = (1 - alpha / A) / a0;
    const y = new Float32Array(out.length);
    biquad(out, y, b0, b1, b2, a1, a2);
    out = y;
  }
  return out === x ? Float32Array.from(x) : out;
}

/** Mains hum: `hz` and its first harmonics with slowly drifting amplitude, at −20 dBFS. */
export function hum(n: number, sampleRate: number, hz: number, random: () => number): Float32Array {
  const out = new Float32Array(n);
  const amps = [1, 0.5 * random(), 0.3 * random(), 0.2 * random()];
  const phases = amps.map(() => random() * 2 * Math.PI);
  for (let k = 0; k < amps.length; k++) {
    // a rotating phasor (cos, sin) instead of Math.sin per sample
    const [c, s] = [Math.cos((2 * Math.PI * hz * (k + 1)) / sampleRate), Math.sin((2 * Math.PI * hz * (k + 1)) / sampleRate)];
    let re = Math.cos(phases[k]);
    let im = Math.sin(phases[k]);
    for (let i = 0; i < n; i++) {
      out[i] += amps[k] * im;
      const next = re * c - im * s;
      im = re * s + im * c;
      re = next;
    }
  }
  const swell = slowSwell(n, sampleRate);
  for (let i = 0; i < n; i++) out[i] *= swell[i];
  return gainTo(out, -20);
}

/** the last hum's amplitude drift, 1 + 0.1 sin(2π 0.3 t) (the same for every hum of a length and rate: kept, not recomputed) */
let swellMade: { n: number; sampleRate: number; swell: Float64Array } | undefined;

function slowSwell(n: number, sampleRate: number): Float64Array {
  if (swellMade?.n !== n || swellMade.sampleRate !== sampleRate) {
    const swell = new Float64Array(n);
    for (let i = 0; i < n; i++) swell[i] = 1 + 0.1 * Math.sin((2 * Math.PI * 0.3 * i) / sampleRate);
    swellMade = { n, sampleRate, swell };
  }
  return swellMade.swell;
}

/**
 * The clip played `factor` times faster (pitch, formants and tempo together, like a tape), by
 * linear interpolation: a cheap speed/vocal-tract-length perturbation for factors near 1.
 */
export function stretch(x: Float32Array, factor: number): Float32Array {
  const n = Math.max(1, Math.floor(x.length / factor));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * factor;
    const k = Math.floor(at);
    const f = at - k;
    out[i] = (x[k] ?? 0) * (1 - f) + (x[k + 1] ?? x[k] ?? 0) * f;
  }
  return out;
}
