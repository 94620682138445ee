/**
 * Sample-rate conversion by windowed-sinc interpolation (Hann window, 16 zero crossings each side),
 * low-passed at the lower rate's Nyquist frequency, so downsampling does not alias. Pure code.
 */
export function resample(x: ArrayLike<number>, from: number, to: number, zeroCrossings = 16): Float32Array {
  if (from === to) return Float32Array.from(x);
  const ratio = to / from;
  const n = Math.floor(x.length * ratio);
  const out = new Float32Array(n);
  const cutoff = Math.min(1, ratio); // of the input's Nyquist
  const half = zeroCrossings / cutoff; // filter half-width in input samples
  for (let i = 0; i < n; i++) {
    const centre = i / ratio;
    const lo = Math.max(0, Math.ceil(centre - half));
    const hi = Math.min(x.length - 1, Math.floor(centre + half));
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const d = j - centre;
      const arg = Math.PI * d * cutoff;
      const sinc = d === 0 ? 1 : Math.sin(arg) / arg;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / half);
      sum += x[j] * sinc * w * cutoff;
    }
    out[i] = sum;
  }
  return out;
}
