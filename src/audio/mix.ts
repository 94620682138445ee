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
  const g = 10 ** ((targetDbfs - now) / 20);
  return Float32Array.from(x, (v) => v * g);
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
  return Float32Array.from(signal, (v, i) => v + g * (noise[i % noise.length] ?? 0));
}

/** White, pink (Voss-McCartney-like filter, −3 dB/octave) or brown (integrated, −6 dB/octave) noise at −20 dBFS. */
export function colouredNoise(n: number, colour: 'white' | 'pink' | 'brown', random: () => number): Float32Array {
  const out = new Float32Array(n);
  let b0 = 0, b1 = 0, b2 = 0, brown = 0;
  for (let i = 0; i < n; i++) {
    const w = random() * 2 - 1;
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
 * A cheap room: the dry signal plus an exponentially decaying tail of sparse random echoes
 * (rt60 seconds to fall 60 dB), mixed `wet` (0-1). Length unchanged.
 */
export function reverb(x: Float32Array, sampleRate: number, rt60: number, wet: number, random: () => number): Float32Array {
  const length = Math.max(1, Math.floor(rt60 * sampleRate));
  const taps: { at: number; g: number }[] = [];
  for (let k = 0; k < 60; k++) {
    const at = 1 + Math.floor(random() * length);
    taps.push({ at, g: (random() * 2 - 1) * 10 ** ((-3 * at) / length) }); // −60 dB at rt60
  }
  const out = Float32Array.from(x, (v) => v * (1 - wet));
  const norm = wet / Math.sqrt(taps.reduce((s, t) => s + t.g * t.g, 0) || 1);
  for (const { at, g } of taps) for (let i = 0; i + at < x.length; i++) out[i + at] += x[i] * g * norm;
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
