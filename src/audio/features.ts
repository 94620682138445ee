/**
 * The fast front end for seqlab's own trigger model: mel energies (by default 40 bands, 25 ms
 * windows every 10 ms at 16 kHz), with fft.js for the power-of-two FFT, then their log or PCEN.
 * Pure typed-array code.
 */
import FFT from 'fft.js';

export interface LogMelOptions {
  sampleRate: number;
  /** window length in samples (25 ms at 16 kHz: 400) */
  window: number;
  /** hop in samples (10 ms at 16 kHz: 160) */
  hop: number;
  /** FFT size, a power of two ≥ window */
  nfft: number;
  bands: number;
  fMin: number;
  fMax: number;
}

export const LOG_MEL_16K: LogMelOptions = { sampleRate: 16000, window: 400, hop: 160, nfft: 512, bands: 40, fMin: 20, fMax: 7600 };

export const hzToMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number) => 700 * (10 ** (mel / 2595) - 1);

/** Triangular filters [bands][nfft/2 + 1], equally spaced on the mel scale (HTK formula). */
export function melFilterbank(o: LogMelOptions): Float32Array[] {
  const bins = o.nfft / 2 + 1;
  const lo = hzToMel(o.fMin);
  const hi = hzToMel(o.fMax);
  const edges = Array.from({ length: o.bands + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (o.bands + 1)));
  const binHz = o.sampleRate / o.nfft;
  return Array.from({ length: o.bands }, (_, b) => {
    const [left, centre, right] = [edges[b], edges[b + 1], edges[b + 2]];
    const filter = new Float32Array(bins);
    for (let k = 0; k < bins; k++) {
      const hz = k * binHz;
      if (hz > left && hz < right) filter[k] = hz <= centre ? (hz - left) / (centre - left) : (right - hz) / (right - centre);
    }
    return filter;
  });
}

export const logMelFrames = (n: number, o: LogMelOptions = LOG_MEL_16K) => (n < o.window ? 0 : 1 + Math.floor((n - o.window) / o.hop));

/** The mel energy of each frame (power through the filterbank), time-major [frames][bands] flattened. */
export function melEnergies(x: ArrayLike<number>, o: LogMelOptions = LOG_MEL_16K): { data: Float32Array; frames: number; bands: number } {
  const { nfft, window, hop, bands } = o;
  const frames = logMelFrames(x.length, o);
  const bins = nfft / 2 + 1;
  const fft = new FFT(nfft);
  // plain arrays in and out, as fft.js makes them: a Float64Array input is ~30% slower (mixed element kinds)
  const spectrum = fft.createComplexArray();
  const frame: number[] = new Array(nfft).fill(0);
  const hann = Float64Array.from({ length: window }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / window)); // periodic
  // each filter is non-zero on one stretch of bins: its weights there, all filters' end to end
  const [lo, hi, at] = [new Int32Array(bands), new Int32Array(bands), new Int32Array(bands)];
  const weights: number[] = [];
  for (const [b, f] of melFilterbank(o).entries()) {
    let k = f.findIndex((v) => v > 0);
    if (k < 0) k = 0;
    let end = f.length;
    while (end > k && f[end - 1] === 0) end--;
    [lo[b], hi[b], at[b]] = [k, end, weights.length];
    for (; k < end; k++) weights.push(f[k]);
  }
  const w = Float64Array.from(weights);
  const power = new Float64Array(bins);
  const data = new Float32Array(frames * bands);
  for (let t = 0; t < frames; t++) {
    const from = t * hop;
    for (let k = 0; k < window; k++) frame[k] = x[from + k] * hann[k];
    fft.realTransform(spectrum, frame);
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k];
      const im = spectrum[2 * k + 1];
      power[k] = re * re + im * im;
    }
    for (let b = 0; b < bands; b++) {
      let e = 0;
      for (let k = lo[b], j = at[b], end = hi[b]; k < end; k++, j++) e += w[j] * power[k];
      data[t * bands + b] = e;
    }
  }
  return { data, frames, bands };
}

/** log(mel energy + 1e-6) of each frame, time-major [frames][bands] flattened. */
export function logMel(x: ArrayLike<number>, o: LogMelOptions = LOG_MEL_16K): { data: Float32Array; frames: number; bands: number } {
  const m = melEnergies(x, o);
  for (let i = 0; i < m.data.length; i++) m.data[i] = Math.log(m.data[i] + 1e-6);
  return m;
}

export interface PcenOptions {
  /** seconds between frames */
  hop: number;
  /** the smoother's time constant, s */
  timeConstant: number;
  /** gain normalization exponent (α) */
  gain: number;
  /** bias (δ) */
  bias: number;
  /** compression exponent (r) */
  power: number;
  eps: number;
  /** energies are multiplied by this first (audio in [-1, 1] → 16-bit units, squared) */
  scale: number;
}

/** Wang et al. 2017's values, as librosa.pcen has them, on 10 ms frames. */
export const PCEN_10MS: PcenOptions = { hop: 0.01, timeConstant: 0.4, gain: 0.98, bias: 2, power: 0.5, eps: 1e-6, scale: 2 ** 30 };

/**
 * Per-channel energy normalization (Wang et al., "Trainable frontend for robust and far-field
 * keyword spotting", 2017): each band divided by its own causal smoothed energy M (a one-pole
 * filter with librosa's coefficient for the time constant, M starting at the first frame's energy),
 * then compressed: (E / (eps + M)^gain + bias)^power − bias^power. A band's steady level (the
 * loudness of the room, the microphone's gain, stationary noise) divides out; onsets stand out.
 * Causal, so it runs on a stream. Time-major [frames][bands] in, a new array out.
 */
export function pcen(energies: Float32Array, frames: number, bands: number, o: PcenOptions = PCEN_10MS): Float32Array {
  const t = o.timeConstant / o.hop;
  const s = (Math.sqrt(1 + 4 * t * t) - 1) / (2 * t * t);
  const out = new Float32Array(frames * bands);
  const floor = o.bias ** o.power;
  for (let b = 0; b < bands; b++) {
    let m = energies[b] * o.scale;
    for (let f = 0; f < frames; f++) {
      const e = energies[f * bands + b] * o.scale;
      m = (1 - s) * m + s * e;
      const x = e * Math.exp(-o.gain * Math.log(o.eps + m)) + o.bias;
      out[f * bands + b] = (o.power === 0.5 ? Math.sqrt(x) : x ** o.power) - floor;
    }
  }
  return out;
}
