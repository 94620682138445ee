/**
 * The fast front end for seqlab's own trigger model: log-mel energies (by default 40 bands, 25 ms
 * windows every 10 ms at 16 kHz), with fft.js for the power-of-two FFT. Pure typed-array code.
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

/** log(mel energy + 1e-6) of each frame, time-major [frames][bands] flattened. */
export function logMel(x: ArrayLike<number>, o: LogMelOptions = LOG_MEL_16K): { data: Float32Array; frames: number; bands: number } {
  const frames = logMelFrames(x.length, o);
  const bins = o.nfft / 2 + 1;
  const fft = new FFT(o.nfft);
  // plain arrays in and out, as fft.js makes them: a Float64Array input is ~30% slower (mixed element kinds)
  const spectrum = fft.createComplexArray();
  const frame: number[] = new Array(o.nfft).fill(0);
  const hann = Float64Array.from({ length: o.window }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / o.window)); // periodic
  const filters = melFilterbank(o);
  // each filter is non-zero on one stretch of bins: loop over that stretch only
  const spans = filters.map((f) => {
    let lo = f.findIndex((v) => v > 0);
    if (lo < 0) lo = 0;
    let hi = f.length;
    while (hi > lo && f[hi - 1] === 0) hi--;
    return [lo, hi];
  });
  const power = new Float64Array(bins);
  const data = new Float32Array(frames * o.bands);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < o.window; k++) frame[k] = x[t * o.hop + k] * hann[k];
    fft.realTransform(spectrum, frame);
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k];
      const im = spectrum[2 * k + 1];
      power[k] = re * re + im * im;
    }
    for (let b = 0; b < o.bands; b++) {
      let e = 0;
      const f = filters[b];
      for (let k = spans[b][0]; k < spans[b][1]; k++) e += f[k] * power[k];
      data[t * o.bands + b] = Math.log(e + 1e-6);
    }
  }
  return { data, frames, bands: o.bands };
}
