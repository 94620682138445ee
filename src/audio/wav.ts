/**
 * WAV files as a user has them: PCM 8/16/24/32-bit integer and 32/64-bit float, WAVE_FORMAT_EXTENSIBLE,
 * any number of channels (mixed down to mono), read whole or in windows (a one-hour file never needs
 * to be in memory at once), and 16-bit PCM written back. Pure typed-array code: no tfjs, no task
 * imports. Errors are plain messages naming the file and what is wrong with it.
 */
import * as fs from 'fs';

export interface WavInfo {
  sampleRate: number;
  channels: number;
  /** bits per sample of one channel */
  bits: number;
  /** 'int' (PCM; 8-bit is unsigned) or 'float' */
  encoding: 'int' | 'float';
  /** frames (one sample per channel each) in the file */
  frames: number;
  /** byte offset of the first frame */
  dataOffset: number;
  /** bytes per frame */
  blockAlign: number;
  seconds: number;
}

export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Parses a RIFF/WAVE header from the first bytes of a file (enough to reach the data chunk). */
export function parseWavHeader(head: Uint8Array, fileSize: number, name = 'the file'): WavInfo {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const tag = (at: number) => String.fromCharCode(...head.subarray(at, at + 4));
  if (head.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavError(`${name} is not a WAV file (no RIFF/WAVE header)`);
  let at = 12;
  let fmt: { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | undefined;
  while (at + 8 <= head.byteLength) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > head.byteLength) throw new WavError(`${name}: its format chunk is cut short`);
      let format = view.getUint16(body, true);
      if (format === FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= head.byteLength) format = view.getUint16(body + 24, true); // the sub-format GUID's first two bytes
      fmt = { format, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), blockAlign: view.getUint16(body + 12, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!fmt) throw new WavError(`${name}: the data comes before the format chunk`);
      const { format, channels, sampleRate, bits, blockAlign } = fmt;
      const intBits = [8, 16, 24, 32];
      const supported = (format === FORMAT_PCM && intBits.includes(bits)) || (format === FORMAT_FLOAT && (bits === 32 || bits === 64));
      if (!supported) throw new WavError(`${name}: ${format === FORMAT_PCM ? `${bits}-bit PCM` : `format ${format} at ${bits} bits`} is not supported (PCM 8/16/24/32-bit or float 32/64-bit are)`);
      if (channels < 1 || blockAlign !== channels * (bits / 8)) throw new WavError(`${name}: inconsistent format (${channels} channels, ${bits} bits, ${blockAlign} bytes per frame)`);
      if (sampleRate < 1) throw new WavError(`${name}: sample rate ${sampleRate}`);
      const available = fileSize - body;
      // a writer that streamed may leave size 0 or 0xFFFFFFFF: then the data runs to the end of the file
      const declared = size === 0 || size === 0xffffffff ? available : size;
      if (declared > available) {
        throw new WavError(`${name} is truncated: its header announces ${declared.toLocaleString('en-US')} bytes of audio, the file holds ${Math.max(0, available).toLocaleString('en-US')}`);
      }
      const frames = Math.floor(declared / blockAlign);
      return { sampleRate, channels, bits, encoding: format === FORMAT_FLOAT ? 'float' : 'int', frames, dataOffset: body, blockAlign, seconds: frames / sampleRate };
    }
    at = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new WavError(fmt ? `${name} has no audio data chunk` : `${name} has no format chunk`);
}

/** Decodes interleaved frames into one mono signal in [-1, 1] (the mean of the channels). */
export function decodeFrames(bytes: Uint8Array, info: Pick<WavInfo, 'channels' | 'bits' | 'encoding' | 'blockAlign'>): Float32Array {
  const { channels, bits, encoding, blockAlign } = info;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = Math.floor(bytes.byteLength / blockAlign);
  const out = new Float32Array(frames);
  const width = bits / 8;
  const sample = (at: number): number => {
    if (encoding === 'float') return bits === 32 ? view.getFloat32(at, true) : view.getFloat64(at, true);
    switch (bits) {
      case 8:
        return (view.getUint8(at) - 128) / 128;
      case 16:
        return view.getInt16(at, true) / 32768;
      case 24: {
        const v = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
        return v / 8388608;
      }
      default:
        return view.getInt32(at, true) / 2147483648;
    }
  };
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += sample(f * blockAlign + c * width);
    out[f] = sum / channels;
  }
  return out;
}

/** An open WAV file read in windows of frames, so memory stays bounded whatever its length. */
export class WavReader {
  private constructor(private readonly fd: number, readonly info: WavInfo, readonly file: string) {}

  static open(file: string): WavReader {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(size, 1 << 16));
      fs.readSync(fd, head, 0, head.byteLength, 0);
      if (size === 0) throw new WavError(`${file} is empty`);
      return new WavReader(fd, parseWavHeader(head, size, file), file);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Mono samples of frames [start, start + count) (fewer at the end of the file). */
  read(start: number, count: number): Float32Array {
    const { frames, blockAlign, dataOffset } = this.info;
    const n = Math.max(0, Math.min(count, frames - start));
    const bytes = Buffer.alloc(n * blockAlign);
    if (n) fs.readSync(this.fd, bytes, 0, bytes.byteLength, dataOffset + start * blockAlign);
    return decodeFrames(bytes, this.info);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** The whole file as mono samples in [-1, 1]. */
export function readWav(file: string): { samples: Float32Array; info: WavInfo } {
  const reader = WavReader.open(file);
  try {
    return { samples: reader.read(0, reader.info.frames), info: reader.info };
  } finally {
    reader.close();
  }
}

/** A 16-bit PCM mono WAV file's bytes for samples in [-1, 1] (clipped; the inverse of the reader's /32768). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    view.setInt16(44 + i * 2, Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768))), true);
  }
  return bytes;
}
