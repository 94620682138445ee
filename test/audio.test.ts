/** src/audio on its own: WAV files of every common encoding, and the course's spectrogram against values derived here. */
import * as fs from 'fs';
import FFT from 'fft.js';
import * as os from 'os';
import * as path from 'path';
import { COURSE_SPECGRAM, hanning, specgram, specgramFrames } from '../src/audio/spectrogram';
import { encodeWav16, readWav, WavReader } from '../src/audio/wav';
import { hzToMel, LOG_MEL_16K, logMel, melEnergies, melFilterbank, melToHz, pcen, PCEN_10MS } from '../src/audio/features';
import { addNoise, chime, colouredNoise, dbfs, gainTo, highPass, hum, overlay, parametricEq, reverb } from '../src/audio/mix';
import { resample } from '../src/audio/resample';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-audio-'));

/** A WAV file written here byte by byte (independent of src/audio's writer). */
function wavBytes(opts: { format: number; channels: number; rate: number; bits: number; frames: number[][]; extensible?: boolean; dataSize?: number }): Buffer {
  const width = opts.bits / 8;
  const block = opts.channels * width;
  const data = Buffer.alloc(opts.frames.length * block);
  opts.frames.forEach((frame, i) =>
    frame.forEach((v, c) => {
      const at = i * block + c * width;
      if (opts.format === 3 && opts.bits === 32) data.writeFloatLE(v, at);
      else if (opts.format === 3) data.writeDoubleLE(v, at);
      else if (opts.bits === 8) data.writeUInt8(Math.round(v * 128 + 128), at);
      else if (opts.bits === 16) data.writeInt16LE(Math.round(v * 32767), at);
      else if (opts.bits === 24) data.writeIntLE(Math.round(v * 8388607), at, 3);
      else data.writeInt32LE(Math.round(v * 2147483647), at);
    }),
  );
  const fmtSize = opts.extensible ? 40 : 16;
  const fmt = Buffer.alloc(8 + fmtSize);
  fmt.write('fmt ', 0);
  fmt.writeUInt32LE(fmtSize, 4);
  fmt.writeUInt16LE(opts.extensible ? 0xfffe : opts.format, 8);
  fmt.writeUInt16LE(opts.channels, 10);
  fmt.writeUInt32LE(opts.rate, 12);
  fmt.writeUInt32LE(opts.rate * block, 16);
  fmt.writeUInt16LE(block, 20);
  fmt.writeUInt16LE(opts.bits, 22);
  if (opts.extensible) {
    fmt.writeUInt16LE(22, 24);
    fmt.writeUInt16LE(opts.bits, 26);
    fmt.writeUInt16LE(opts.format, 32); // sub-format GUID, first two bytes
  }
  const list = Buffer.from('LIST\u0004\u0000\u0000\u0000abcd', 'latin1'); // a chunk readers must skip
  const head = Buffer.alloc(8);
  head.write('data', 0);
  head.writeUInt32LE(opts.dataSize ?? data.byteLength, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, list, head, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0);
  riff.writeUInt32LE(body.byteLength, 4);
  return Buffer.concat([riff, body]);
}

const write = (name: string, bytes: Uint8Array) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
};

describe('WAV', () => {
  const frames = [[0.5, -0.25], [-1, 0.75], [0.25, 0.25], [0, -0.5]];
  const mono = frames.map(([a, b]) => (a + b) / 2);
  test.each([
    ['8-bit PCM', 1, 8, 1 / 64],
    ['16-bit PCM', 1, 16, 1e-4],
    ['24-bit PCM', 1, 24, 1e-6],
    ['32-bit PCM', 1, 32, 1e-8],
    ['32-bit float', 3, 32, 1e-7],
    ['64-bit float', 3, 64, 1e-12],
  ])('%s stereo is read and mixed down to mono', (_name, format, bits, tolerance) => {
    for (const extensible of [false, true]) {
      const file = write(`t-${bits}-${format}-${extensible}.wav`, wavBytes({ format, channels: 2, rate: 22050, bits, frames, extensible }));
      const { samples, info } = readWav(file);
      expect(info).toMatchObject({ sampleRate: 22050, channels: 2, bits, frames: 4 });
      expect(Array.from(samples).every((v, i) => Math.abs(v - mono[i]) <= tolerance)).toBe(true);
    }
  });

  test('windows of a long file read exactly what the whole read does', () => {
    const n = 50000;
    const signal = Array.from({ length: n }, (_, i) => [Math.sin(i / 7) * 0.8, Math.cos(i / 11) * 0.3, 0.1]);
    const file = write('long.wav', wavBytes({ format: 1, channels: 3, rate: 44100, bits: 16, frames: signal }));
    const whole = readWav(file).samples;
    const reader = WavReader.open(file);
    const parts: number[] = [];
    for (let start = 0; start < n; start += 4096) parts.push(...reader.read(start, 4096));
    reader.close();
    expect(parts).toEqual(Array.from(whole));
  });

  test('16-bit writer round trip', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.9);
    const { samples, info } = readWav(write('rt.wav', encodeWav16(x, 16000)));
    expect(info).toMatchObject({ sampleRate: 16000, channels: 1, bits: 16, frames: 1000 });
    expect(Math.max(...Array.from(samples, (v, i) => Math.abs(v - x[i])))).toBeLessThanOrEqual(0.5 / 32768 + 1e-7);
  });

  test('bad files: one clear message each', () => {
    expect(() => readWav(write('text.wav', Buffer.from('hello, this is not audio')))).toThrow(/text.wav is not a WAV file/);
    expect(() => readWav(write('empty.wav', Buffer.alloc(0)))).toThrow(/empty.wav is empty/);
    const whole = wavBytes({ format: 1, channels: 1, rate: 8000, bits: 16, frames: Array.from({ length: 1000 }, () => [0.1]) });
    expect(() => readWav(write('cut.wav', whole.subarray(0, 1000)))).toThrow(/cut.wav is truncated: its header announces 2,000 bytes of audio, the file holds 944/);
    expect(() => readWav(write('adpcm.wav', wavBytes({ format: 1, channels: 1, rate: 8000, bits: 12 as number, frames: [] })))).toThrow(/not supported/);
  });
});

describe("the course's spectrogram", () => {
  test('441,000 samples give 5,511 frames of 101 bins', () => {
    expect(specgramFrames(441000)).toBe(5511);
    const { frames, bins } = specgram(new Float32Array(441000));
    expect([frames, bins]).toEqual([5511, 101]);
  });

  test('a constant signal: bin 0 is c²(Σw)²/(Fs·Σw²) with Σw = 99.5 and Σw² = 74.625 for a 200-point Hann window', () => {
    const w = hanning(200);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(99.5, 9);
    expect(w.reduce((a, b) => a + b * b, 0)).toBeCloseTo(74.625, 9);
    const c = 1000;
    const { data, bins } = specgram(new Float32Array(400).fill(c));
    expect(data[0] / ((c * c * 99.5 * 99.5) / (8000 * 74.625))).toBeCloseTo(1, 5);
    expect(data[bins]).toBeCloseTo(data[0], -1); // the next frame is the same
  });

  test('equals a direct complex DFT written here, frame by frame', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => 3000 * Math.sin(0.3 * i) + 500 * Math.cos(1.7 * i) + ((i * 7919) % 101) - 50);
    const { data, frames, bins } = specgram(x, COURSE_SPECGRAM);
    expect(frames).toBe(Math.floor((1000 - 120) / 80));
    for (const t of [0, 3, frames - 1]) {
      for (const f of [0, 1, 17, 50, 99, 100]) {
        let re = 0;
        let im = 0;
        let power = 0;
        for (let k = 0; k < 200; k++) {
          const wk = 0.5 * (1 - Math.cos((2 * Math.PI * k) / 199));
          power += wk * wk;
          re += wk * x[t * 80 + k] * Math.cos((-2 * Math.PI * f * k) / 200);
          im += wk * x[t * 80 + k] * Math.sin((-2 * Math.PI * f * k) / 200);
        }
        const expected = ((re * re + im * im) / (8000 * power)) * (f === 0 || f === 100 ? 1 : 2);
        expect(data[t * bins + f] / expected).toBeCloseTo(1, 4);
      }
    }
  });
});

describe('resampling, log-mel, mixing', () => {
  const tone = (hz: number, rate: number, n: number, amp = 0.5) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

  test('a 1 kHz tone resampled 44.1 → 16 kHz is the same tone at the new rate; 7 kHz → 8 kHz is filtered out, not aliased', () => {
    const y = resample(tone(1000, 44100, 11025), 44100, 16000);
    expect(y.length).toBe(4000);
    const want = tone(1000, 16000, 4000);
    let err = 0;
    for (let i = 500; i < 3500; i++) err = Math.max(err, Math.abs(y[i] - want[i]));
    expect(err).toBeLessThan(0.01);
    const aliased = resample(tone(7000, 44100, 11025), 44100, 8000);
    expect(dbfs(aliased.subarray(300, 1700))).toBeLessThan(dbfs(tone(7000, 44100, 11025)) - 30);
  });

  test('the per-phase filter table (common rates) gives what the filter computed per sample gives', () => {
    const x = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i / 3) + 0.3 * Math.cos(i / 1.7));
    for (const [from, to] of [[44100, 16000], [22050, 16000], [8000, 16000], [48000, 44100]]) {
      const table = resample(x, from, to);
      const direct = resample(x, from + 1e-9, to); // a rate that is not a whole number takes the per-sample path
      expect(table.length).toBe(Math.floor((3000 * to) / from));
      expect(Math.abs(table.length - direct.length)).toBeLessThanOrEqual(1); // floor() of a rate a hair above
      expect(Math.max(...Array.from(direct, (v, i) => Math.abs(v - table[i])))).toBeLessThan(1e-4);
    }
  });

  test('log-mel: frame count, and a 1 kHz tone peaks in the band whose centre is nearest 1 kHz', () => {
    const { data, frames, bands } = logMel(tone(1000, 16000, 16000));
    expect(frames).toBe(1 + Math.floor((16000 - 400) / 160));
    expect(bands).toBe(40);
    const row = Array.from(data.subarray(10 * bands, 11 * bands));
    const centres = Array.from({ length: 40 }, (_, b) => melToHz(hzToMel(20) + ((hzToMel(7600) - hzToMel(20)) * (b + 1)) / 41));
    const nearest = centres.reduce((best, c, b) => (Math.abs(c - 1000) < Math.abs(centres[best] - 1000) ? b : best), 0);
    expect(row.indexOf(Math.max(...row))).toBe(nearest);
    // every filter of the bank has some weight (none falls between FFT bins)
    for (const f of melFilterbank(LOG_MEL_16K)) expect(f.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  test('mel energies equal a direct DFT of each Hann-windowed frame, its power through the filterbank', () => {
    let seed = 9;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const x = Float32Array.from({ length: 2000 }, (_, i) => 0.3 * Math.sin(i * 0.37) + 0.2 * (random() - 0.5));
    const o = LOG_MEL_16K;
    const { data, frames, bands } = melEnergies(x, o);
    expect(frames).toBe(1 + Math.floor((2000 - 400) / 160));
    const filters = melFilterbank(o);
    for (const t of [0, 3, frames - 1]) {
      const power = Array.from({ length: o.nfft / 2 + 1 }, (_, k) => {
        let [re, im] = [0, 0];
        for (let n = 0; n < o.window; n++) {
          const v = x[t * o.hop + n] * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / o.window));
          re += v * Math.cos((2 * Math.PI * k * n) / o.nfft);
          im -= v * Math.sin((2 * Math.PI * k * n) / o.nfft);
        }
        return re * re + im * im;
      });
      for (let b = 0; b < bands; b++) {
        const want = filters[b].reduce((e, w, k) => e + w * power[k], 0);
        expect(Math.abs(data[t * bands + b] - want)).toBeLessThanOrEqual(1e-5 * want + 1e-9);
      }
    }
  });

  test('PCEN: a steady band gives the closed form, a step fades with librosa\'s smoother for 0.4 s at 10 ms, loudness divides out', () => {
    const { gain: a, bias: d, power: r, scale } = PCEN_10MS;
    const at = (e: number, m: number) => ((e * scale) / (1e-6 + m * scale) ** a + d) ** r - d ** r;
    // 2 bands, 60 frames: band 0 steady, band 1 steps up 1000-fold at frame 10
    const frames = 60;
    const e = new Float32Array(frames * 2);
    for (let f = 0; f < frames; f++) {
      e[f * 2] = 1e-4;
      e[f * 2 + 1] = f < 10 ? 1e-6 : 1e-3;
    }
    const out = pcen(e, frames, 2);
    for (let f = 0; f < frames; f++) expect(out[f * 2]).toBeCloseTo(at(1e-4, 1e-4), 5);
    expect(out[1]).toBeCloseTo(at(1e-6, 1e-6), 5);
    // librosa: t = 0.4 s / 10 ms = 40 frames, s = (sqrt(1 + 4t²) − 1) / (2t²) ≈ 0.024689; M after the step, by hand
    const s = 0.024689;
    const m = (n: number) => 1e-3 - (1e-3 - 1e-6) * (1 - s) ** (n + 1); // n frames after the step's first
    for (const n of [0, 1, 10, 40]) expect(out[(10 + n) * 2 + 1]).toBeCloseTo(at(1e-3, m(n)), 3);
    expect(out[10 * 2 + 1]).toBeGreaterThan(10 * out[59 * 2 + 1]); // the onset stands out, then fades
    // the same sound 30 dB louder: log-mel moves by ln(1000) ≈ 6.9 in its loudest cell, PCEN by under 15% of its range anywhere
    const x = tone(700, 16000, 8000, 0.01);
    const louder = x.map((v) => v * 31.62);
    const [m1, m2] = [melEnergies(x), melEnergies(louder)];
    const p1 = pcen(m1.data, m1.frames, m1.bands);
    const p2 = pcen(m2.data, m2.frames, m2.bands);
    const l1 = logMel(x).data;
    const l2 = logMel(louder).data;
    const peak = Math.max(...p1);
    let worst = 0;
    for (let i = 0; i < p1.length; i++) worst = Math.max(worst, Math.abs(p2[i] - p1[i]));
    expect(worst / peak).toBeLessThan(0.15);
    const k = l1.indexOf(Math.max(...l1));
    expect(l2[k] - l1[k]).toBeCloseTo(Math.log(1000), 2);
  });

  test('levels: gain to −20 dBFS, noise at a given SNR, a full-scale sine at −3 dBFS', () => {
    expect(dbfs(tone(440, 16000, 16000, 1))).toBeCloseTo(-3.01, 1);
    const x = gainTo(tone(440, 16000, 16000, 0.01), -20);
    expect(dbfs(x)).toBeCloseTo(-20, 6);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const noise = colouredNoise(16000, 'pink', random);
    const mixed = addNoise(x, noise, 10);
    const added = Float32Array.from(mixed, (v, i) => v - x[i]);
    expect(dbfs(x) - dbfs(added)).toBeCloseTo(10, 6);
    // noise shorter than the signal repeats from its start
    const short = noise.subarray(0, 3000);
    const g = Math.sqrt(10 ** (dbfs(x) / 10) / (10 ** (dbfs(short) / 10) * 10));
    const repeated = addNoise(x, short, 10);
    for (const i of [0, 2999, 3000, 7001, 15999]) expect(repeated[i]).toBe(Math.fround(x[i] + g * short[i % 3000]));
    const into = new Float32Array(10);
    overlay(into, [1, 2, 3], 8);
    expect(Array.from(into.subarray(7))).toEqual([0, 1, 2]);
  });

  test('noise colours: white is flat, pink falls ~3 dB and brown ~6 dB per octave (power averaged over 512-sample DFTs)', () => {
    let seed = 5;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const fft = new FFT(512);
    const octave = (x: Float32Array, lo: number) => {
      // mean power of the bins in [lo, 2·lo) Hz at 16 kHz, over 512-sample Hann-windowed segments
      const out = fft.createComplexArray();
      let sum = 0, count = 0;
      for (let at = 0; at + 512 <= x.length; at += 512) {
        const frame = Array.from({ length: 512 }, (_, k) => x[at + k] * (0.5 - 0.5 * Math.cos((2 * Math.PI * k) / 512)));
        fft.realTransform(out, frame);
        for (let k = Math.ceil((lo * 512) / 16000); k < (2 * lo * 512) / 16000; k++, count++) sum += out[2 * k] ** 2 + out[2 * k + 1] ** 2;
      }
      return sum / count;
    };
    const slope = (colour: 'white' | 'pink' | 'brown') => {
      const x = colouredNoise(160000, colour, random);
      expect(dbfs(x)).toBeCloseTo(-20, 6);
      expect(x.every((v) => Number.isFinite(v))).toBe(true);
      // dB per octave between the 250-500 Hz and 2-4 kHz octaves
      return (10 * Math.log10(octave(x, 2000) / octave(x, 250))) / 3;
    };
    expect(Math.abs(slope('white'))).toBeLessThan(0.5);
    expect(slope('pink')).toBeGreaterThan(-3.8);
    expect(slope('pink')).toBeLessThan(-2.2);
    expect(slope('brown')).toBeGreaterThan(-6.8);
    expect(slope('brown')).toBeLessThan(-5.2);
  });

  test('the Butterworth high-pass: a sine comes out scaled by 1 / sqrt(1 + (fc/f)^2n); DC and a slow swell are gone; the input is untouched', () => {
    const rate = 22050;
    const sine = (hz: number) => Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
    // the last 0.4 s (whole periods of every sine here), the start-up left out
    const change = (x: Float32Array, y: Float32Array) => dbfs(y.subarray(rate * 0.6)) - dbfs(x.subarray(rate * 0.6));
    for (const order of [2, 4]) {
      for (const hz of [12.5, 25, 50, 100, 400, 3000]) {
        const expected = -10 * Math.log10(1 + (50 / hz) ** (2 * order));
        expect(change(sine(hz), highPass(sine(hz), rate, 50, order))).toBeCloseTo(expected, 1);
      }
    }
    const dc = highPass(new Float32Array(rate).fill(-0.2), rate, 50);
    expect(Math.abs(dc[rate - 1])).toBeLessThan(1e-6);
    // a 300 Hz tone riding on a negative swell that follows its envelope (what eSpeak NG's unvoiced Klatt voices give)
    const env = (i: number) => Math.sin((Math.PI * i) / rate) ** 2;
    const tone = Float32Array.from({ length: rate }, (_, i) => 0.05 * env(i) * Math.sin((2 * Math.PI * 300 * i) / rate));
    const swollen = tone.map((v, i) => v - 0.25 * env(i));
    const before = Float32Array.from(swollen);
    const out = highPass(swollen, rate, 50);
    expect(Array.from(swollen)).toEqual(Array.from(before));
    expect(dbfs(swollen) - dbfs(tone)).toBeGreaterThan(12);
    expect(Math.abs(dbfs(out) - dbfs(tone))).toBeLessThan(0.2);
    expect(() => highPass(tone, rate, 50, 3)).toThrow(/order/);
  });

  test('the parametric equalizer: a sine at a band\'s centre changes by its gain, far sines and DC pass unchanged', () => {
    const rate = 16000;
    const sine = (hz: number) => Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
    // the steady state (the filter's start-up left out), in dB against the input
    const change = (x: Float32Array, y: Float32Array) => dbfs(y.subarray(rate / 2)) - dbfs(x.subarray(rate / 2));
    for (const [hz, q, db] of [[100, 0.7, 9], [1000, 1.4, -12], [5000, 1, 6]]) {
      const band = [{ hz, q, db }];
      expect(change(sine(hz), parametricEq(sine(hz), rate, band))).toBeCloseTo(db, 1);
      // four octaves away the band has (almost) no effect
      const far = hz < 1000 ? hz * 16 : hz / 16;
      expect(Math.abs(change(sine(far), parametricEq(sine(far), rate, band)))).toBeLessThan(0.3);
    }
    // a peaking band leaves DC alone, and bands in series add their gains where they meet
    const dc = parametricEq(new Float32Array(rate).fill(0.5), rate, [{ hz: 200, q: 1, db: 12 }]);
    expect(dc[rate - 1]).toBeCloseTo(0.5, 4);
    expect(change(sine(800), parametricEq(sine(800), rate, [{ hz: 800, q: 1, db: 4 }, { hz: 800, q: 1, db: 5 }]))).toBeCloseTo(9, 1);
    // no bands: an unchanged copy
    const x = sine(440);
    const same = parametricEq(x, rate, []);
    expect(same).not.toBe(x);
    expect(Array.from(same)).toEqual(Array.from(x));
  });

  test('reverb in one pass is bit for bit the six filters run one after another, each into a float32 array', () => {
    // the stage-by-stage Schroeder reverberator (seqlab's before the one-pass version)
    const reference = (x: Float32Array, sampleRate: number, rt60: number, wet: number, random: () => number) => {
      const n = x.length;
      const tail = new Float32Array(n);
      for (let k = 0; k < 4; k++) {
        const d = Math.max(1, Math.round((0.025 + 0.025 * random()) * sampleRate));
        const g = 10 ** ((-3 * d) / (rt60 * sampleRate));
        const y = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          y[i] = x[i] + (i >= d ? g * y[i - d] : 0);
          tail[i] += y[i] * 0.25;
        }
      }
      let v = tail;
      for (const ms of [5, 1.7]) {
        const d = Math.max(1, Math.round((ms / 1000) * sampleRate));
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = -0.7 * v[i] + (i >= d ? v[i - d] + 0.7 * out[i - d] : 0);
        v = out;
      }
      const energy = (a: Float32Array) => a.reduce((e, s) => e + s * s, 0);
      const level = Math.sqrt(energy(x) / (energy(v) || 1));
      return Float32Array.from(x, (s, i) => (1 - wet) * s + wet * level * v[i]);
    };
    for (const [n, rt60, wet] of [[20000, 0.4, 0.3], [300, 0.9, 0.6], [0, 0.2, 0.5]]) {
      let seed = 11;
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      const x = Float32Array.from({ length: n }, () => random() - 0.5);
      let [a, b] = [seed, seed];
      const got = reverb(x, 16000, rt60, wet, () => ((a = (a * 16807) % 2147483647) / 2147483647));
      const want = reference(x, 16000, rt60, wet, () => ((b = (b * 16807) % 2147483647) / 2147483647));
      expect(got.length).toBe(n);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  test('hum: 50/60 Hz and three harmonics with a 0.3 Hz swell, as sin() per sample gives it, whatever length came before', () => {
    const reference = (n: number, rate: number, hz: number, random: () => number) => {
      const amps = [1, 0.5 * random(), 0.3 * random(), 0.2 * random()];
      const phases = amps.map(() => random() * 2 * Math.PI);
      const out = new Float32Array(n);
      for (let k = 0; k < 4; k++) {
        // hum's rotating phasor, step by step
        const [c, s] = [Math.cos((2 * Math.PI * hz * (k + 1)) / rate), Math.sin((2 * Math.PI * hz * (k + 1)) / rate)];
        let [re, im] = [Math.cos(phases[k]), Math.sin(phases[k])];
        for (let i = 0; i < n; i++) {
          out[i] += amps[k] * im;
          [re, im] = [re * c - im * s, re * s + im * c];
        }
      }
      for (let i = 0; i < n; i++) out[i] *= 1 + 0.1 * Math.sin((2 * Math.PI * 0.3 * i) / rate);
      return gainTo(out, -20);
    };
    for (const [n, rate, hz] of [[16000, 16000, 50], [16000, 16000, 60], [9000, 8000, 60], [16000, 16000, 50]]) {
      let [a, b] = [5, 5];
      const got = hum(n, rate, hz, () => ((a = (a * 16807) % 2147483647) / 2147483647));
      const want = reference(n, rate, hz, () => ((b = (b * 16807) % 2147483647) / 2147483647));
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    // the mains frequency dominates: a 50 Hz hum correlates with a 50 Hz sine far more than with a 60 Hz one
    let seed = 2;
    const h = hum(16000, 16000, 50, () => ((seed = (seed * 16807) % 2147483647) / 2147483647));
    const power = (f: number) => Math.hypot(...[Math.sin, Math.cos].map((fn) => h.reduce((s, v, i) => s + v * fn((2 * Math.PI * f * i) / 16000), 0)));
    expect(power(50)).toBeGreaterThan(10 * power(60));
  });

  test('reverb keeps the length and adds a tail; the chime is audible and never clips', () => {
    let seed = 3;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const click = new Float32Array(8000);
    click[0] = 1;
    const wet = reverb(click, 16000, 0.3, 0.5, random);
    expect(wet.length).toBe(8000);
    expect(dbfs(wet.subarray(100, 4000))).toBeGreaterThan(-80);
    const c = chime(44100);
    expect(c.length).toBe(Math.floor(44100 * 0.6));
    expect(Math.max(...Array.from(c, Math.abs))).toBeCloseTo(0.7, 6);
    expect(dbfs(c)).toBeGreaterThan(-30);
  });
});
