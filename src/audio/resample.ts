/**
 * Sample-rate conversion by windowed-sinc interpolation (Hann window, 16 zero crossings each side),
 * low-passed at the lower rate's Nyquist frequency, so downsampling does not alias. Pure code.
 *
 * When the rates have a small common structure (to/from = p/q in lowest terms with p ≤ 4096, as for
 * every common rate pair: 44,100 → 16,000 is 160/441) the output positions fall on p phases, and
 * the filter is computed once per phase instead of once per output sample (10 s from 44.1 to
 * 16 kHz: 0.036 s instead of 0.37 s).
 */
export function resample(x: ArrayLike<number>, from: number, to: number, zeroCrossings = 16): Float32Array {
  if (from === to) return Float32Array.from(x);
  const ratio = to / from;
  const n = Math.floor(x.length * ratio);
  const out = new Float32Array(n);
  const cutoff = Math.min(1, ratio); // of the input's Nyquist
  const half = zeroCrossings / cutoff; // filter half-width in input samples
  const weight = (d: number) => {
    if (Math.abs(d) > half) return 0;
    const arg = Math.PI * d * cutoff;
    const sinc = d === 0 ? 1 : Math.sin(arg) / arg;
    return sinc * (0.5 + 0.5 * Math.cos((Math.PI * d) / half)) * cutoff;
  };
  const g = gcd(Math.round(to), Math.round(from));
  const [p, q] = [Math.round(to) / g, Math.round(from) / g];
  if (Number.isInteger(from) && Number.isInteger(to) && p <= 4096) {
    // phase k = (i·q) mod p: output i sits at input position base + k/p
    const m = Math.ceil(half) + 1;
    const taps = 2 * m + 1;
    const table = new Float64Array(p * taps);
    for (let k = 0; k < p; k++) for (let t = 0; t < taps; t++) table[k * taps + t] = weight(t - m - k / p);
    for (let i = 0; i < n; i++) {
      const base = Math.floor((i * q) / p);
      const k = (i * q) % p;
      const lo = Math.max(0, base - m);
      const hi = Math.min(x.length - 1, base + m);
      let sum = 0;
      for (let j = lo, t = k * taps + (lo - base + m); j <= hi; j++, t++) sum += x[j] * table[t];
      out[i] = sum;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const centre = i / ratio;
    const lo = Math.max(0, Math.ceil(centre - half));
    const hi = Math.min(x.length - 1, Math.floor(centre + half));
    let sum = 0;
    for (let j = lo; j <= hi; j++) sum += x[j] * weight(j - centre);
    out[i] = sum;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
