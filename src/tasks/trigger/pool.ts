/**
 * The word pool trigger's examples are mixed from: "activate" and other words spoken by two
 * synthesizers, synthesized once per seed and cached, plus a user's own recordings by flag.
 * eSpeak NG (formant rules): accent × variant × speed × pitch, and a rate and pitch per word; half
 * its training voices have the variant's formants and pitch range varied. Flite (voices learned
 * from recordings of real speakers, flite.ts): a quarter of the training voices, each a Flite voice
 * resampled higher or lower. Voices of HELD_OUT_VARIANTS are only ever in the test split.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stretch } from '../../audio/mix';
import { resample } from '../../audio/resample';
import { readWav, WavError } from '../../audio/wav';
import { defaultCacheDir } from '../../core/cache';
import { SeqlabError } from '../../core/errors';
import { fileError, makeDirs, quoted, writeFileAtomic } from '../../core/files';
import { Reporter } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { Flite, FLITE_VOICES, FliteVoiceName } from './flite';
import { ACCENTS, HELD_OUT_VARIANTS, NEGATIVE_WORDS, randomVariant, Speaker, splitAtPauses, TRAINING_VARIANTS, TRIGGER, VoiceSpec, whispers } from './speech';

export const SAMPLE_RATE = 16000;

export interface SpeechPool {
  /** "activate", 16 kHz mono, trimmed */
  activates: Float32Array[];
  /** other words and phrases */
  negatives: Float32Array[];
  /** what each negative says ('' for a user's recording) */
  negativeTexts: string[];
  /** which synthesized voice said each clip (absent in pools cached before 2026-11-28's fifth release) */
  voiceOf?: { activates: number[]; negatives: number[] };
  /** the voices (as voiceOf numbers them) that whisper: randomVariant's whispering new voices */
  whispered?: number[];
}

export interface Pools {
  train: SpeechPool;
  /** unseen voices, for eval */
  test: SpeechPool;
  /** a user's background recordings (16 kHz), by flag */
  backgrounds: Float32Array[];
  /** a user's word recordings as read (16 kHz, trimmed), by flag */
  user: { activates: Float32Array[]; negatives: Float32Array[] };
}

export interface PoolSize {
  /** voices (one eSpeak call, or one Flite speaker) for the training split; the test split gets a fifth as many */
  voices: number;
  /** activates and negatives spoken per voice */
  activatesPerVoice: number;
  negativesPerVoice: number;
  /** the Flite voices a share (FLITE_SHARE) of the training voices are drawn from; [] for eSpeak NG alone */
  flite: readonly FliteVoiceName[];
}

export const DEFAULT_POOL: PoolSize = { voices: 160, activatesPerVoice: 8, negativesPerVoice: 14, flite: FLITE_VOICES };

const MAGIC = 'SQLPOOL2';

/** Where the pool for (seed, size) is cached. */
export function poolFile(seed: number, size: PoolSize, cacheDir = defaultCacheDir()): string {
  const all = size.flite.length === FLITE_VOICES.length && FLITE_VOICES.every((v) => size.flite.includes(v));
  const synths = all ? '' : size.flite.length ? `-flite-${[...size.flite].sort().join('+')}` : '-espeak';
  return path.join(cacheDir, `trigger-words-v7-${seed}-${size.voices}x${size.activatesPerVoice}+${size.negativesPerVoice}${synths}.pool`);
}

/**
 * The cached pool for (seed, size), synthesized on first use (~0.4 s per voice); the same for a
 * seed on every run and machine. A seed's voices are drawn one after another, each from the same
 * random stream whatever the number asked for, so a pool of more voices (same seed, words per voice
 * and synthesizers) holds this one: its clips of the first `size.voices` training voices (and first
 * held-out ones), in the same order. Such a cached pool is used instead of synthesizing.
 */
export async function speechPools(seed: number, size: PoolSize, reporter: Reporter, cacheDir = defaultCacheDir()): Promise<{ train: SpeechPool; test: SpeechPool }> {
  const file = poolFile(seed, size, cacheDir);
  if (fs.existsSync(file)) {
    const pools = readPool(file);
    if (pools) return pools;
    reporter.warn(`the speech cache ${file} is unreadable; synthesizing it again`);
  }
  for (const larger of largerPoolFiles(seed, size, cacheDir)) {
    const pools = readPool(larger);
    if (pools?.train.voiceOf && pools.test.voiceOf) return { train: firstVoices(pools.train, size.voices), test: firstVoices(pools.test, heldOutVoices(size)) };
  }
  const t0 = performance.now();
  const speaker = await Speaker.load();
  const flite = size.flite.length ? await Flite.load() : undefined;
  const testVoices = heldOutVoices(size);
  const synths = size.flite.length ? `eSpeak NG and Flite (${size.flite.join(', ')})` : 'eSpeak NG';
  reporter.info(`synthesizing the word pool with ${synths}: ${size.voices} training voices, ${testVoices} held-out eSpeak voices (once; cached in ${file})`);
  reporter.startPhase('synthesis', size.voices + testVoices);
  let train: SpeechPool;
  let test: SpeechPool;
  try {
    train = await synthesize({ speaker, flite }, deriveSeed(seed, 'pool-train'), size.voices, TRAINING_VARIANTS, size, true, (k) => reporter.batch(k, {}));
    test = await synthesize({ speaker, flite }, deriveSeed(seed, 'pool-test'), testVoices, HELD_OUT_VARIANTS, size, false, (k) => reporter.batch(size.voices + k, {}));
  } finally {
    flite?.close();
  }
  reporter.abort();
  reporter.info(`word pool: ${train.activates.length} activates and ${train.negatives.length} other words for training, ` +
    `${test.activates.length} + ${test.negatives.length} in held-out voices (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  // the pool as the cache holds it (16-bit): this run's examples are those of every later run that reads it
  const bytes = encodePool({ train, test });
  cacheBytes(file, bytes, 'the word pool', reporter);
  return decodePool(bytes)!;
}

/** Writes a synthesized pool to the cache (atomically); a cache that cannot be written costs a warning, not the run. */
function cacheBytes(file: string, bytes: Buffer, what: string, reporter: Reporter): void {
  try {
    makeDirs(path.dirname(file));
    writeFileAtomic(file, bytes);
  } catch (err) {
    reporter.warn(`could not cache ${what} (${fileError('write', file, err).message}); it will be synthesized again next time`);
  }
}

/**
 * The held-out split alone of the pool for (seed, size): from that pool's cache (or a larger one's) where there is one, else
 * synthesized by itself (its eSpeak NG voices only: ~0.4 s each, Flite never speaks in it) and cached beside the pools as
 * `<pool>-held-out.pool`. The same clips as the held-out split of the whole pool (its voices have their own random stream).
 */
export async function heldOutPool(seed: number, size: PoolSize, reporter: Reporter, cacheDir = defaultCacheDir()): Promise<SpeechPool> {
  const full = poolFile(seed, size, cacheDir);
  if (fs.existsSync(full)) {
    const pools = readPool(full);
    if (pools) return pools.test;
  }
  for (const larger of largerPoolFiles(seed, size, cacheDir)) {
    const pools = readPool(larger);
    if (pools?.test.voiceOf) return firstVoices(pools.test, heldOutVoices(size));
  }
  const file = full.replace(/\.pool$/, '-held-out.pool');
  if (fs.existsSync(file)) {
    const pools = readPool(file);
    if (pools) return pools.test;
    reporter.warn(`the speech cache ${file} is unreadable; synthesizing it again`);
  }
  const t0 = performance.now();
  const speaker = await Speaker.load();
  const voices = heldOutVoices(size);
  reporter.info(`synthesizing seed ${seed}'s ${voices} held-out eSpeak voices (once; cached in ${file})`);
  reporter.startPhase('synthesis', voices);
  const test = await synthesize({ speaker }, deriveSeed(seed, 'pool-test'), voices, HELD_OUT_VARIANTS, size, false, (k) => reporter.batch(k, {}));
  reporter.abort();
  reporter.info(`held-out words: ${test.activates.length} activates and ${test.negatives.length} other words (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const empty: SpeechPool = { activates: [], negatives: [], negativeTexts: [], voiceOf: { activates: [], negatives: [] } };
  const bytes = encodePool({ train: empty, test });
  cacheBytes(file, bytes, 'the held-out words', reporter);
  return decodePool(bytes)!.test;
}

/** Synthesizes and caches the pool for (seed, size) unless it is cached (it is not read). */
export async function cachePool(seed: number, size: PoolSize, reporter: Reporter, cacheDir = defaultCacheDir()): Promise<void> {
  if (!fs.existsSync(poolFile(seed, size, cacheDir))) await speechPools(seed, size, reporter, cacheDir);
}

/** the held-out split's voices for a training split of size.voices */
const heldOutVoices = (size: PoolSize) => Math.max(4, Math.round(size.voices / 5));

/** Cached pools of more voices than size's, otherwise the same (same seed, words per voice, synthesizers), fewest voices first. */
function largerPoolFiles(seed: number, size: PoolSize, cacheDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(cacheDir);
  } catch {
    return [];
  }
  const name = path.basename(poolFile(seed, size, cacheDir));
  const [before, after] = name.split(`-${size.voices}x`);
  return names
    .filter((n) => n.startsWith(`${before}-`) && n.endsWith(`x${after}`))
    .map((n) => ({ n, voices: Number(n.slice(before.length + 1, n.length - after.length - 1)) }))
    .filter((f) => Number.isInteger(f.voices) && f.voices > size.voices)
    .sort((a, b) => a.voices - b.voices)
    .map((f) => path.join(cacheDir, f.n));
}

/** The clips of a pool's first `voices` voices, in the pool's order. */
const firstVoices = (pool: SpeechPool, voices: number): SpeechPool => voicesWhere(pool, (v) => v < voices);

/**
 * The pool without its whispering voices' clips (the speech embedding's partner model trains so: with the first,
 * drifting whispers it fired on noise in real rooms, README "Whispering training voices").
 */
export function withoutWhispers(pool: SpeechPool): SpeechPool {
  if (!pool.whispered?.length || !pool.voiceOf) return pool;
  const out = new Set(pool.whispered);
  return voicesWhere(pool, (v) => !out.has(v));
}

/** The clips of the voices `keep` keeps, in the pool's order (a pool that records its voices). */
function voicesWhere(pool: SpeechPool, keep: (voice: number) => boolean): SpeechPool {
  const { activates, negatives } = pool.voiceOf!;
  const kept = (list: number[]) => list.map((v, i) => (keep(v) ? i : -1)).filter((i) => i >= 0);
  const [a, n] = [kept(activates), kept(negatives)];
  return {
    activates: a.map((i) => pool.activates[i]),
    negatives: n.map((i) => pool.negatives[i]),
    negativeTexts: n.map((i) => pool.negativeTexts[i]),
    voiceOf: { activates: a.map((i) => activates[i]), negatives: n.map((i) => negatives[i]) },
    ...(pool.whispered ? { whispered: pool.whispered.filter(keep) } : {}),
  };
}

/** the share of eSpeak NG training voices that are new: a training variant with its formants and pitch range varied (randomVariant) */
const VARIED_VOICES = 0.5;

/** the share of training voices that are Flite's */
export const FLITE_SHARE = 0.25;

/** What one voice says: activatesPerVoice activates and negativesPerVoice other words drawn from NEGATIVE_WORDS, in that order. */
const wordsToSay = (size: PoolSize, rng: Rng): string[] => [...Array(size.activatesPerVoice).fill(TRIGGER), ...Array.from({ length: size.negativesPerVoice }, () => rng.pick(NEGATIVE_WORDS))];

/**
 * `training`: a tenth of the voices are an accent's own voice, with no variant, and half are
 * varied variants (the held-out split is only ever its variants as eSpeak NG has them, none of
 * which is used in training).
 */
async function synthesize(synths: { speaker: Speaker; flite?: Flite }, seed: number, voices: number, variants: readonly string[], size: PoolSize, training: boolean, progress: (k: number) => void): Promise<SpeechPool> {
  const rng = new Rng(seed);
  const pool: SpeechPool = { activates: [], negatives: [], negativeTexts: [], voiceOf: { activates: [], negatives: [] }, whispered: [] };
  const keep = (text: string, samples: Float32Array | undefined, voice: number) => addWord(pool, text, samples, voice);
  const flites: Promise<[string, Float32Array | undefined, number][]>[] = [];
  const speaker = synths.speaker;
  for (let v = 0; v < voices; v++) {
    if (training && synths.flite && size.flite.length && rng.chance(FLITE_SHARE)) {
      // a Flite speaker, made higher or lower and smaller or larger by resampling (pitch and formants together);
      // its process speaks while this one goes on with eSpeak
      const voice = v;
      const words = fliteSpeaker(synths.flite, rng.pick(size.flite), [0.86, 1.18], [0.8, 1.3], size, rng).then((said) => said.map(([text, samples]) => [text, samples, voice] as [string, Float32Array | undefined, number]));
      words.catch(() => undefined); // awaited below, after the eSpeak voices: not an unhandled rejection meanwhile
      flites.push(words);
      progress(v + 1);
      continue;
    }
    const voice: VoiceSpec = {
      accent: rng.pick(ACCENTS),
      variant: training && rng.chance(0.1) ? '' : rng.pick(variants),
      speed: rng.int(140, 210),
      pitch: rng.int(25, 75),
    };
    if (training && voice.variant && rng.chance(VARIED_VOICES)) voice.custom = randomVariant(await speaker.variantText(voice.variant), () => rng.random());
    if (voice.custom && whispers(voice.custom)) pool.whispered!.push(v);
    const texts = wordsToSay(size, rng);
    const words = rng.shuffle(texts).map((text) => ({ text, rate: rng.int(70, 130), pitch: rng.int(-25, 25) }));
    const spoken = await speaker.speak(voice, words, SAMPLE_RATE);
    for (const s of spoken ?? []) keep(s.text, s.samples, v);
    progress(v + 1);
  }
  for (const words of await Promise.all(flites)) for (const [text, samples, voice] of words) keep(text, samples, voice);
  return pool;
}

/** One Flite speaker: `voice` resampled by one factor in `shift`, each word at its own duration stretch in `tempo`. */
async function fliteSpeaker(flite: Flite, voice: FliteVoiceName, shift: [number, number], tempo: [number, number], size: PoolSize, rng: Rng): Promise<[string, Float32Array | undefined][]> {
  const factor = shift[0] + (shift[1] - shift[0]) * rng.random();
  const texts = wordsToSay(size, rng);
  const words = rng.shuffle(texts).map((text) => ({ voice: { voice, stretch: tempo[0] + (tempo[1] - tempo[0]) * rng.random() }, text }));
  const said = await flite.speak(words, SAMPLE_RATE);
  return words.map((w, i) => [w.text, said[i] && stretch(said[i]!, factor)]);
}

/**
 * Words spoken by one Flite voice only (each of `speakers` speakers that voice a little higher or
 * lower, words at their own tempo), for `eval --flite`: another synthesizer's speaker, unheard in
 * training when training left it out (`train --flite`). Not cached: ~1 s per speaker.
 */
export async function flitePool(seed: number, voice: FliteVoiceName, speakers: number, size: PoolSize, reporter: Reporter): Promise<SpeechPool> {
  const flite = await Flite.load();
  const rng = new Rng(deriveSeed(seed, `flite-${voice}`));
  const pool: SpeechPool = { activates: [], negatives: [], negativeTexts: [] };
  reporter.startPhase(`Flite ${voice}`, speakers);
  try {
    for (let k = 0; k < speakers; k++) {
      for (const [text, samples] of await fliteSpeaker(flite, voice, [0.92, 1.1], [0.85, 1.25], size, rng)) addWord(pool, text, samples);
      reporter.batch(k + 1, {});
    }
  } finally {
    flite.close();
    reporter.abort();
  }
  return pool;
}

/** A spoken word into the pool (said by `voice`, where the pool records voices), unless it is missing or shorter than 150 ms. */
function addWord(pool: SpeechPool, text: string, samples: Float32Array | undefined, voice?: number): void {
  if (!samples || samples.length < SAMPLE_RATE * 0.15) return;
  if (text === TRIGGER) {
    pool.activates.push(samples);
    if (voice !== undefined) pool.voiceOf?.activates.push(voice);
  } else {
    pool.negatives.push(samples);
    pool.negativeTexts.push(text);
    if (voice !== undefined) pool.voiceOf?.negatives.push(voice);
  }
}

function encodePool(p: { train: SpeechPool; test: SpeechPool }): Buffer {
  const clips = [p.train.activates, p.train.negatives, p.test.activates, p.test.negatives];
  const voices = p.train.voiceOf && p.test.voiceOf ? [p.train.voiceOf.activates, p.train.voiceOf.negatives, p.test.voiceOf.activates, p.test.voiceOf.negatives] : undefined;
  const whispered = [p.train.whispered ?? [], p.test.whispered ?? []];
  const header = Buffer.from(JSON.stringify({ lengths: clips.map((list) => list.map((c) => c.length)), texts: [p.train.negativeTexts, p.test.negativeTexts], ...(voices ? { voices, whispered } : {}) }), 'utf8');
  const total = clips.flat().reduce((s, c) => s + c.length, 0);
  const out = Buffer.alloc(12 + header.length + total * 2);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let at = 12 + header.length;
  for (const c of clips.flat()) {
    for (let i = 0; i < c.length; i++, at += 2) out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(c[i] * 32767))), at);
  }
  return out;
}

function readPool(file: string): { train: SpeechPool; test: SpeechPool } | undefined {
  try {
    return decodePool(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

/** A cached pool's bytes (encodePool's), or undefined if they are not one. */
function decodePool(buf: Buffer): { train: SpeechPool; test: SpeechPool } | undefined {
  try {
    if (buf.toString('ascii', 0, 8) !== MAGIC) return undefined;
    const len = buf.readUInt32LE(8);
    const { lengths, texts, voices, whispered } = JSON.parse(buf.toString('utf8', 12, 12 + len)) as { lengths: number[][]; texts: string[][]; voices?: number[][]; whispered?: number[][] };
    const total = lengths.flat().reduce((s, n) => s + n, 0);
    if (buf.length !== 12 + len + total * 2) return undefined;
    // the samples as one aligned little-endian Int16Array (a copy: the header's length leaves them at any offset)
    const samples = new Int16Array(total);
    Buffer.from(samples.buffer).set(buf.subarray(12 + len));
    if (os.endianness() === 'BE') Buffer.from(samples.buffer).swap16();
    let at = 0;
    const lists = lengths.map((list) => list.map((n) => {
      const c = new Float32Array(n);
      for (let i = 0; i < n; i++) c[i] = samples[at++] / 32767;
      return c;
    }));
    // which voice said each clip (pools cached before these were recorded have none)
    const of = (k: number) => (voices && voices.every((v, i) => v.length === lengths[i].length) ? { voiceOf: { activates: voices[k], negatives: voices[k + 1] }, whispered: whispered?.[k / 2] ?? [] } : {});
    return { train: { activates: lists[0], negatives: lists[1], negativeTexts: texts[0], ...of(0) }, test: { activates: lists[2], negatives: lists[3], negativeTexts: texts[1], ...of(2) } };
  } catch {
    return undefined;
  }
}

/**
 * A folder of a user's WAV recordings (the course's raw_data layout: activates/, negatives/,
 * backgrounds/), each mixed down and resampled to 16 kHz; words are trimmed to their sound.
 */
export function readRecordings(dir: string, what: string, trim: boolean): Float32Array[] {
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new SeqlabError(`--${what} ${quoted(dir)} is a file; give a folder of WAV files`);
    names = fs.readdirSync(dir).filter((n) => /\.wav$/i.test(n)).sort();
  } catch (err) {
    if (err instanceof SeqlabError) throw err;
    throw fileError('read the folder', dir, err);
  }
  if (names.length === 0) throw new SeqlabError(`--${what} ${quoted(dir)} holds no .wav files`);
  return names.map((name) => {
    const file = path.join(dir, name);
    let samples: Float32Array;
    let rate: number;
    try {
      const wav = readWav(file);
      samples = wav.samples;
      rate = wav.info.sampleRate;
    } catch (err) {
      if (err instanceof WavError) throw new SeqlabError(err.message);
      throw fileError('read', file, err);
    }
    let x = resample(samples, rate, SAMPLE_RATE);
    if (trim) {
      const pieces = splitAtPauses(x, SAMPLE_RATE, 10);
      if (pieces.length) x = x.slice(pieces[0][0], pieces[pieces.length - 1][1]);
    }
    if (x.length < SAMPLE_RATE * 0.1) throw new SeqlabError(`${file} is too short to use (${(x.length / SAMPLE_RATE).toFixed(2)} s)`);
    return x;
  });
}
