/**
 * jazz --arch course: the course's model exactly. The course's grammar tokens of a MIDI file's solo
 * (src/music/grammar.ts), m = 60 windows of Tx = 30 tokens drawn with NumPy's legacy RNG (seed 0),
 * a zero first input; one LSTM(64) over the 30 steps (the course's shared LSTM_cell, state passed
 * step to step) and Dense(vocabulary) softmax at each; Adam 0.01 with Keras' decay 0.01, batch 32,
 * 100 epochs; the loss printed as Keras prints it for 30 outputs (summed: ≈130 at the start).
 * Sampling feeds each step's token back, one LSTM step at a time, and turns the tokens into notes
 * over the chords one after another (the course's generate_music without its overlapping lines).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { readData } from '../../core/read';
import { SeqlabError } from '../../core/errors';
import { NumpyRandom } from '../../core/numpy-random';
import { Rng } from '../../core/rng';
import { Lstm } from '../../models/recurrent';
import { stackedLstmClassifier } from '../../models/stacked';
import { ChordSpan } from '../../music/corpus';
import { courseCorpus, notesFromTokens, parseToken } from '../../music/grammar';
import { MidiError, Note, pickChords, pickMelody, readMidi } from '../../music/midi';
import { TrackChoice } from './data';

/** The course's MIDI (shared/datasets/course/original_metheny.mid), recognised by its SHA-256: its solo is quarters 476-548. */
const COURSE_MIDI_SHA256 = '0da8322ceab36b036682b5ece0c315193f7b701a3340a0ca5a523b107c6f428d';
export const COURSE_WINDOW: [number, number] = [476, 548];

export const COURSE = { m: 60, tx: 30, units: 64, lr: 0.01, decay: 0.01, batchSize: 32, epochs: 100, generate: 50 };

/** The course's corpus of a MIDI file: its tokens, and the sorted vocabulary. */
export function courseTokens(file: string, choice: TrackChoice, window: [number, number] | 'auto'): { tokens: string[]; values: string[]; window: [number, number]; melodyTrack: number; chordTrack: number } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new SeqlabError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let song;
  try {
    song = readMidi(bytes);
  } catch (err) {
    if (err instanceof MidiError) throw new SeqlabError(`${file} ${err.message}`);
    throw err;
  }
  const melodyTrack = choice.melody === 'auto' ? pickMelody(song) : choice.melody;
  const chordTrack = choice.chords === 'auto' ? pickChords(song, melodyTrack) : choice.chords;
  if (melodyTrack >= song.parts.length || chordTrack === undefined || chordTrack >= song.parts.length) throw new SeqlabError(`${file}: no such melody or chord track (its tracks: ${song.parts.map((p, i) => `${i} ${p.name}`).join(', ')})`);
  const isCourse = crypto.createHash('sha256').update(bytes).digest('hex') === COURSE_MIDI_SHA256;
  const end = Math.max(...song.parts[melodyTrack].notes.map((n) => n.start + n.duration));
  const span: [number, number] = window !== 'auto' ? window : isCourse ? COURSE_WINDOW : [0, Math.floor(end / 4) * 4];
  const { tokens } = courseCorpus(song.parts[melodyTrack].notes, song.parts[chordTrack].notes, span[0], span[1]);
  if (tokens.length <= COURSE.tx) throw new SeqlabError(`${file}: the solo in quarters ${span[0]}-${span[1]} gives ${tokens.length} grammar tokens; the course's windows need more than ${COURSE.tx}`);
  return { tokens, values: [...new Set(tokens)].sort(), window: span, melodyTrack, chordTrack };
}

/** The course's data_processing: X (m, Tx, V) with a zero first step, Y the next tokens (the last step all zeros). */
export function courseWindows(tokens: readonly string[], values: readonly string[]): { x: Float32Array; y: Float32Array; starts: number[] } {
  const index = new Map(values.map((v, i) => [v, i]));
  const V = values.length;
  const { m, tx } = COURSE;
  const rng = new NumpyRandom(0);
  const x = new Float32Array(m * tx * V);
  const y = new Float32Array(m * tx * V);
  const starts: number[] = [];
  for (let i = 0; i < m; i++) {
    const start = rng.interval(tokens.length - tx - 1); // np.random.choice(len(corpus) - Tx)
    starts.push(start);
    for (let j = 1; j < tx; j++) {
      const v = index.get(tokens[start + j])!;
      x[(i * tx + j) * V + v] = 1;
      y[(i * tx + j - 1) * V + v] = 1;
    }
  }
  return { x, y, starts };
}

/** djmodel: LSTM(64) over Tx steps → Dense(V, softmax) at each: 45,530 weights at 90 values. */
export function buildCourseModel(vocab: number, seed: number): tf.LayersModel {
  return stackedLstmClassifier({ inputSize: vocab, classes: vocab, layers: 1, units: COURSE.units, dropout: 0, seed, names: { input: 'one_hot_tokens', output: 'densor', model: 'djmodel' } });
}

/** Keras' legacy decay lr / (1 + decay · iterations), at an epoch's first step (the course: 2 steps per epoch). */
export function courseLearningRate(epoch: number): number {
  const steps = Math.ceil(COURSE.m / COURSE.batchSize);
  return COURSE.lr / (1 + COURSE.decay * steps * (epoch - 1));
}

/** Tokens drawn one LSTM step at a time from a zero input, each fed back (temperature 0: the course's argmax). */
export async function sampleTokens(model: tf.LayersModel, values: readonly string[], count: number, temperature: number, seed: number): Promise<string[]> {
  const rng = new Rng(seed);
  const V = values.length;
  const [layer] = model.layers.filter((l): l is Lstm => l instanceof Lstm);
  const [kernel, bias] = model.getLayer('densor').getWeights();
  let state = { h: tf.zeros([1, layer.units]) as tf.Tensor2D, c: tf.zeros([1, layer.units]) as tf.Tensor2D };
  const out: string[] = [];
  let prev = -1;
  for (let s = 0; s < count; s++) {
    const x = new Float32Array(V);
    if (prev >= 0) x[prev] = 1;
    const next = tf.tidy(() => layer.step(tf.tensor2d(x, [1, V]), state));
    tf.dispose([state.h, state.c]);
    state = next;
    const p = await readData(() => tf.softmax(tf.add(tf.matMul(next.h, kernel), bias)));
    prev = temperature <= 0 ? p.indexOf(Math.max(...p)) : rng.weighted(Array.from(p, (q) => Math.pow(Math.max(q, 1e-30), 1 / temperature)));
    out.push(values[prev]);
  }
  tf.dispose([state.h, state.c]);
  return out;
}

/** A solo from the course's model over `chords`: tokens drawn in runs of 50 (as the course generates) until `quarters` are filled. */
export async function courseSolo(model: tf.LayersModel, values: readonly string[], chords: readonly ChordSpan[], quarters: number, temperature: number, seed: number): Promise<Note[]> {
  const rng = new Rng(seed);
  const notes: Note[] = [];
  let t = 0;
  for (let run = 0; t < quarters && run < 1000; run++) {
    const tokens = await sampleTokens(model, values, COURSE.generate, temperature, seed + run);
    const length = tokens.reduce((s, k) => s + parseToken(k).duration, 0);
    if (length <= 0) break;
    const placed = notesFromTokens(tokens, chords, () => rng.random(), t, notes.length ? notes[notes.length - 1].pitch : 67);
    notes.push(...placed.filter((n) => n.start < quarters).map((n) => ({ ...n, duration: Math.min(n.duration, quarters - n.start) })));
    t += length;
  }
  return notes;
}
