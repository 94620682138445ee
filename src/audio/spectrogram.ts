/**
 * The course's spectrogram, exactly: matplotlib `specgram(x, NFFT=200, Fs=8000, noverlap=120)` on
 * raw int16 samples (the course feeds channel 0 of 44.1 kHz audio unscaled), i.e. 200-sample frames
 * with a hop of 80, a symmetric Hann window, no detrending, the one-sided power spectral density
 * |X|² / (Fs · Σw²) with the interior bins doubled, linear (no log). 441,000 samples give 5,511
 * frames × 101 bins. 200 is not a power of two, so the DFT is a 101 × 200 table of cosines and
 * sines (fast enough: 10 s in ~0.2 s). Pure typed-array code.
 */

export interface SpecgramOptions {
  nfft: number;
  noverlap: number;
  /** the sample rate matplotlib is told (the course says 8000 for 44.1 kHz audio: it only scales) */
  fs: number;
}

export const COURSE_SPECGRAM: SpecgramOptions = { nfft: 200, noverlap: 120, fs: 8000 };

/** numpy.hanning(n): 0.5 − 0.5 cos(2πk / (n − 1)), symmetric. */
export function hanning(n: number): Float64Array {
  const w = new Float64Array(n);
  if (n === 1) w[0] = 1;
  else for (let k = 0; k < n; k++) w[k] = 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / (n - 1));
  return w;
}

/** Frames matplotlib makes of n samples: (n − noverlap) // (nfft − noverlap). */
export const specgramFrames = (n: number, o: SpecgramOptions = COURSE_SPECGRAM) => (n < o.nfft ? 0 : Math.floor((n - o.noverlap) / (o.nfft - o.noverlap)));

/**
 * The PSD spectrogram, time-major: [frames][nfft/2 + 1] flattened (row t holds frame t's bins), the
 * transpose of matplotlib's (freqs × times), which is how the course feeds it to its model.
 */
export function specgram(x: ArrayLike<number>, o: SpecgramOptions = COURSE_SPECGRAM): { data: Float32Array; frames: number; bins: number } {
  const { nfft, noverlap, fs } = o;
  const bins = Math.floor(nfft / 2) + 1;
  const hop = nfft - noverlap;
  const frames = specgramFrames(x.length, o);
  const w = hanning(nfft);
  let windowPower = 0;
  for (let k = 0; k < nfft; k++) windowPower += w[k] * w[k];
  const cos = new Float64Array(bins * nfft);
  const sin = new Float64Array(bins * nfft);
  for (let f = 0; f < bins; f++) {
    for (let k = 0; k < nfft; k++) {
      const angle = (2 * Math.PI * f * k) / nfft;
      cos[f * nfft + k] = Math.cos(angle) * w[k];
      sin[f * nfft + k] = Math.sin(angle) * w[k];
    }
  }
  const data = new Float32Array(frames * bins);
  const frame = new Float64Array(nfft);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < nfft; k++) frame[k] = x[t * hop + k];
    for (let f = 0; f < bins; f++) {
      let re = 0;
      let im = 0;
      const row = f * nfft;
      for (let k = 0; k < nfft; k++) {
        re += frame[k] * cos[row + k];
        im += frame[k] * sin[row + k];
      }
      const interior = f > 0 && !(nfft % 2 === 0 && f === bins - 1);
      data[t * bins + f] = ((re * re + im * im) / (fs * windowPower)) * (interior ? 2 : 1);
    }
  }
  return { data, frames, bins };
}
