/**
 * jazz: an LSTM that learns melodies over chords and improvises over a progression a user types,
 * written back as MIDI (melody, comping, bass), a WAV to listen to at once and a piano roll.
 *
 * data.ts (the generated corpus in src/music/corpus.ts, or a user's MIDI files; all 12 keys;
 * held-out pieces) → model.ts (event + chord → LSTMs → next event) → train (the shared loop) →
 * eval (held-out NLL beside baselines, tone classes of sampled solos) → sample.
 */
import * as path from 'path';
import { encodeWav16 } from '../../audio/wav';
import { loadCheckpoint } from '../../core/checkpoint';
import { SeqlabError, UsageError } from '../../core/errors';
import { checkWritableDir, makeDirs, writeFileAtomic } from '../../core/files';
import { pianoRollPng, writeLossChart } from '../../core/plot';
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../core/optimizer';
import { readData } from '../../core/read';
import { formatSeconds } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { Options, RunContext, Task } from '../../core/task';
import { beginTraining, checkpointSaver, interruption, trainLoop } from '../../core/train';
import { ChordError } from '../../music/chords';
import { ChordSpan, chordAt, Lead, toneClass } from '../../music/corpus';
import { decodeEvents, encodeMelody, EVENTS, EventRangeError, STEPS_PER_BAR, STEPS_PER_QUARTER } from '../../music/events';
import { Note, writeMidi } from '../../music/midi';
import { accompaniment, renderAudio } from '../../music/render';
import { generatedLeads, leadFromMidi, progression, Sequence, sequences, splitPieces, toneShares, TrackChoice, windowBatch } from './data';
import { buildJazzModel, compileJazzModel, JazzModelConfig, sampleEvents, sequenceNll } from './model';
import { buildCourseModel, COURSE, courseLearningRate, courseSolo, courseTokens, courseWindows } from './course';

interface JazzConfig extends JazzModelConfig {
  arch?: 'default';
  /** generated lead sheets (0: only --midi files) */
  pieces: number;
  /** a user's MIDI files (absolute paths) */
  midi: string[];
  melodyTrack: number | 'auto';
  chordTrack: number | 'auto';
  epochs: number;
  batchesPerEpoch: number;
  batchSize: number;
  windowBars: number;
  lr: number;
}

const DEFAULT_SOLO_CHORDS = 'Dm7 G7 Cmaj7 Cmaj7';

function trackChoice(value: unknown, flag: string): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a track number (0, 1, ...) or auto, not '${value}'`);
  return n;
}

/** The lead sheets a config names: the generated ones, then each MIDI file's. */
function leadsFor(config: JazzConfig, seed: number): Lead[] {
  const choice: TrackChoice = { melody: config.melodyTrack, chords: config.chordTrack };
  const user = config.midi.map((f) => leadFromMidi(f, choice));
  return [...generatedLeads(config.pieces, deriveSeed(seed, 'jazz-corpus')), ...user];
}

function allSequences(leads: readonly Lead[], allKeys: boolean): Sequence[] {
  return leads.flatMap((l) => {
    try {
      return sequences(l, allKeys);
    } catch (err) {
      if (err instanceof EventRangeError) throw new SeqlabError(`${l.name}: ${err.message}`);
      throw err;
    }
  });
}

/** --arch course's settings: its data are fixed by the course; only where the solo is can change. */
interface CourseConfig {
  arch: 'course';
  midi: string;
  melodyTrack: number | 'auto';
  chordTrack: number | 'auto';
  soloQuarters: [number, number] | 'auto';
  epochs: number;
}

function soloQuarters(value: unknown): [number, number] | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const m = /^(\d+(?:\.\d+)?)[-:](\d+(?:\.\d+)?)$/.exec(String(value));
  if (!m || Number(m[2]) <= Number(m[1])) throw new UsageError(`--solo-quarters takes FROM-TO in quarter notes (e.g. 476-548) or auto, not '${value}'`);
  return [Number(m[1]), Number(m[2])];
}

// ---------------------------------------------------------------- train

async function train(_args: string[], options: Options, ctx: RunContext) {
  const resumed = await beginTraining('jazz', options, ctx, { epochs: options.epochs as number | undefined });
  const saved = resumed.meta?.hyperparameters as unknown as (JazzConfig | CourseConfig) | undefined;
  const midi = ((options.midi as unknown as string[] | undefined) ?? []).map((f) => path.resolve(f));
  if ((saved?.arch ?? options.arch) === 'course') return trainCourse(options, ctx, resumed, saved as CourseConfig | undefined, midi);
  const defaultSaved = saved as JazzConfig | undefined;
  return trainDefault(options, ctx, resumed, defaultSaved, midi);
}

async function trainCourse(options: Options, ctx: RunContext, resumed: Awaited<ReturnType<typeof beginTraining>>, saved: CourseConfig | undefined, midi: string[]) {
  const seed = resumed.meta?.seed ?? ctx.seed;
  if (!saved && midi.length !== 1) throw new UsageError('--arch course learns from one MIDI file: --midi FILE (the course\'s is original_metheny.mid)');
  const config: CourseConfig = saved ? { ...saved, epochs: (options.epochs as number | undefined) ?? saved.epochs } : {
    arch: 'course',
    midi: midi[0],
    melodyTrack: trackChoice(options.melodyTrack, '--melody-track'),
    chordTrack: trackChoice(options.chordTrack, '--chord-track'),
    soloQuarters: soloQuarters(options.soloQuarters),
    epochs: (options.epochs as number | undefined) ?? COURSE.epochs,
  };
  const data = courseTokens(config.midi, { melody: config.melodyTrack, chords: config.chordTrack }, config.soloQuarters);
  const known = resumed.meta?.vocabularies.values;
  if (known && known.join('\n') !== data.values.join('\n')) throw new SeqlabError(`${config.midi} no longer gives the grammar this checkpoint was trained on; train without --resume`);
  const V = data.values.length;
  const { x, y } = courseWindows(data.tokens, data.values);
  const model = resumed.model ?? buildCourseModel(V, seed);
  if (!resumed.model) model.compile({ optimizer: adam(COURSE.lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  ctx.reporter.info(`the course's grammar of ${config.midi} (melody: track ${data.melodyTrack}, chords: track ${data.chordTrack}, quarters ${data.window[0]}-${data.window[1]}): ${data.tokens.length} tokens, ${V} values (the course: 193 and 78, or 275 and 90, by music21's version)`);
  ctx.reporter.info(`djmodel: LSTM(${COURSE.units}) + Dense(${V}) softmax, ${model.countParams().toLocaleString('en-US')} weights; ${COURSE.m} windows of ${COURSE.tx} tokens, batch ${COURSE.batchSize}, Adam ${COURSE.lr} with decay ${COURSE.decay}, ${config.epochs} epochs`);
  const { m, tx, batchSize } = COURSE;
  const saver = checkpointSaver(ctx, { task: 'jazz', seed, hyperparameters: { ...config }, vocabularies: { values: data.values } }, resumed.meta);
  const result = await trainLoop({
    model,
    epochs: config.epochs,
    resumed: resumed.meta,
    batchesPerEpoch: Math.ceil(m / batchSize),
    // Keras shuffles the 60 windows every epoch
    batch: (epoch, i) => {
      const order = new Rng(deriveSeed(seed, 'course-shuffle', epoch)).shuffle(Array.from({ length: m }, (_, k) => k)).slice(i * batchSize, (i + 1) * batchSize);
      const row = tx * V;
      const xs = new Float32Array(order.length * row);
      const ys = new Float32Array(order.length * row);
      order.forEach((k, b) => {
        xs.set(x.subarray(k * row, (k + 1) * row), b * row);
        ys.set(y.subarray(k * row, (k + 1) * row), b * row);
      });
      return { xs: tf.tensor3d(xs, [order.length, tx, V]), ys: tf.tensor3d(ys, [order.length, tx, V]) };
    },
    learningRate: courseLearningRate,
    // the course's figure: the loss summed over the 30 steps (Keras' sum over 30 outputs), here of all 60 windows after the epoch
    validate: async () => {
      const [loss] = await readData(() => {
        const out = model.evaluate(tf.tensor3d(x, [m, tx, V]), tf.tensor3d(y, [m, tx, V]), { batchSize: m });
        return Array.isArray(out) ? out[0] : out;
      });
      return { summed_loss: tx * loss };
    },
    save: (epoch, history, interrupted) => saver.save(model, epoch, history, { interrupted }),
    reporter: ctx.reporter,
  });
  if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'jazz', `seqlab train jazz --epochs ${config.epochs}`, ctx.print);
  const summed = result.history.map((h) => [h.epoch, tx * h.loss] as [number, number]);
  const chart = writeLossChart(ctx.checkpointDir, { title: 'jazz --arch course: loss summed over the 30 steps (as the course prints it)', xLabel: 'epoch', series: [{ name: 'training', points: summed }] });
  const first = summed[0];
  const last = summed[summed.length - 1];
  ctx.print(`jazz course: trained in ${formatSeconds(saver.trainSeconds())}; loss as the course prints it (summed over ${tx} steps): ${first ? `epoch ${first[0]} ${first[1].toFixed(3)}, ` : ''}epoch ${last[0]} ${last[1].toFixed(3)} (${(last[1] / (tx - 1)).toFixed(3)} nats per token)`);
  ctx.print(`checkpoint: ${ctx.checkpointDir}` + (chart ? ' (training curve: loss.png)' : ''));
  ctx.print('next: seqlab sample jazz --chords "Dm7 G7 Cmaj7 Cmaj7" (temperature 0: the course\'s argmax)');
  return { arch: 'course', tokens: data.tokens.length, vocabularySize: V, loss: last[1], weights: model.countParams(), seconds: saver.trainSeconds(), checkpoint: ctx.checkpointDir };
}

async function trainDefault(options: Options, ctx: RunContext, resumed: Awaited<ReturnType<typeof beginTraining>>, saved: JazzConfig | undefined, midi: string[]) {
  const seed = resumed.meta?.seed ?? ctx.seed;
  const epochs = (options.epochs as number | undefined) ?? saved?.epochs ?? 16;
  const config: JazzConfig = saved ? { ...saved, epochs } : {
    arch: 'default',
    pieces: (options.pieces as number | undefined) ?? (midi.length ? 0 : 84),
    midi,
    melodyTrack: trackChoice(options.melodyTrack, '--melody-track'),
    chordTrack: trackChoice(options.chordTrack, '--chord-track'),
    layers: options.layers as number,
    units: options.units as number,
    dropout: options.dropout as number,
    epochs,
    batchesPerEpoch: options.batches as number,
    batchSize: options.batchSize as number,
    windowBars: options.windowBars as number,
    lr: options.lr as number,
  };
  if (!config.pieces && !config.midi.length) throw new UsageError('nothing to learn from: --pieces 0 needs --midi FILES');
  const t0 = performance.now();
  const leads = leadsFor(config, seed);
  const { train: trainLeads, held } = splitPieces(leads);
  const trainSeqs = allSequences(trainLeads, true);
  const heldSeqs = allSequences(held, false);
  const notes = trainLeads.reduce((s, l) => s + l.melody.length, 0);
  ctx.reporter.info(`data: ${trainLeads.length} pieces (${notes} notes) in ${trainSeqs.length} key versions for training, ${held.length} held out (${formatSeconds((performance.now() - t0) / 1000)})`);
  for (const l of leads.slice(config.pieces)) ctx.reporter.info(`  ${l.name}: ${l.bars} bars, ${l.melody.length} notes, ${l.chords.length} chords`);

  const model = resumed.model ?? buildJazzModel(config, seed);
  if (!resumed.model) compileJazzModel(model, config.lr);
  const steps = config.windowBars * STEPS_PER_BAR;
  ctx.reporter.info(`jazz: ${model.countParams().toLocaleString('en-US')} weights; ${config.epochs} epochs of ${config.batchesPerEpoch} batches of ${config.batchSize} windows of ${config.windowBars} bars`);
  const saver = checkpointSaver(ctx, { task: 'jazz', seed, hyperparameters: { ...config }, vocabularies: {} }, resumed.meta);
  const result = await trainLoop({
    model,
    epochs: config.epochs,
    resumed: resumed.meta,
    batchesPerEpoch: config.batchesPerEpoch,
    batch: (epoch, i) => windowBatch(trainSeqs, steps, config.batchSize, deriveSeed(seed, 'jazz-windows', epoch, i)),
    validate: heldSeqs.length ? async () => {
      const { nll, events } = await sequenceNll(model, heldSeqs);
      return { val_nll: nll / events };
    } : undefined,
    save: (epoch, history, interrupted) => saver.save(model, epoch, history, { interrupted }),
    reporter: ctx.reporter,
  });
  if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'jazz', `seqlab train jazz --epochs ${config.epochs}`, ctx.print);
  const chart = writeLossChart(ctx.checkpointDir, {
    title: 'jazz: nats per event',
    xLabel: 'epoch',
    series: [
      { name: 'training', points: result.history.map((h) => [h.epoch, h.loss]) },
      ...(heldSeqs.length ? [{ name: 'held-out pieces', points: result.history.map((h) => [h.epoch, h.val_nll] as [number, number]) }] : []),
    ],
  });
  const last = result.history[result.history.length - 1];
  ctx.print(`jazz: trained in ${formatSeconds(saver.trainSeconds())}; loss ${last?.loss.toFixed(4)} nats per event` + (last?.val_nll !== undefined ? `, held-out ${last.val_nll.toFixed(4)}` : ''));
  ctx.print(`checkpoint: ${ctx.checkpointDir}` + (chart ? ' (training curve: loss.png)' : ''));
  ctx.print('next: seqlab sample jazz --chords "Dm7 G7 Cmaj7 Cmaj7" --bars 16, or seqlab eval jazz');
  return { pieces: trainLeads.length, heldOut: held.length, vocabularySize: EVENTS, loss: last?.loss, valNll: last?.val_nll, seconds: saver.trainSeconds(), checkpoint: ctx.checkpointDir };
}

// ---------------------------------------------------------------- a trained model

async function loadTrained(ctx: RunContext) {
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'jazz');
  return { model, meta, config: meta.hyperparameters as unknown as JazzConfig };
}

/** A primer: MIDI pitches as eighth notes ("60 62 64"), or the first notes of a MIDI file's melody. */
function primerEvents(given: string | undefined, choice: TrackChoice): number[] {
  if (!given) return [];
  let notes: Note[];
  if (/\.midi?$/i.test(given)) {
    const lead = leadFromMidi(path.resolve(given), choice);
    const first = lead.melody[0]?.start ?? 0;
    notes = lead.melody.filter((n) => n.start - first < 8).map((n) => ({ ...n, start: n.start - first }));
  } else {
    const pitches = given.split(/[\s,]+/).filter(Boolean).map(Number);
    if (!pitches.length || pitches.some((p) => !Number.isInteger(p) || p < 48 || p > 83)) throw new UsageError(`--primer takes MIDI pitches 48-83 separated by spaces (e.g. "60 62 64") or a .mid file, not '${given}'`);
    notes = pitches.map((pitch, k) => ({ pitch, start: k / 2, duration: 0.5, velocity: 88 }));
  }
  const end = Math.max(...notes.map((n) => n.start + n.duration), 0);
  return Array.from(encodeMelody(notes, Math.ceil(end * STEPS_PER_QUARTER)));
}

const TONE_COLOURS: [string, string][] = [['chord tone', '#1f77b4'], ['scale tone', '#2ca02c'], ['approach', '#ff7f0e'], ['other', '#d62728']];
const KIND_NAMES = { chord: 'chord tone', scale: 'scale tone', approach: 'approach', other: 'other' } as const;

/** The three files of one solo: .mid (melody, comping, bass), .wav, .png. */
function writeSolo(base: string, melody: Note[], chords: ChordSpan[], bars: number, tempo: number, swing: number, title: string): string[] {
  const { comping, bass } = accompaniment(chords);
  const midi = writeMidi({
    tempo,
    timeSignature: [4, 4],
    parts: [
      { name: 'Melody (seqlab jazz)', channel: 0, program: 66, notes: melody },
      { name: 'Comping', channel: 1, program: 4, notes: comping },
      { name: 'Bass', channel: 2, program: 32, notes: bass },
    ],
  });
  const rate = 22050;
  const audio = renderAudio([{ notes: melody, voice: 'lead', gain: 0.32 }, { notes: comping, voice: 'keys', gain: 0.12 }, { notes: bass, voice: 'bass', gain: 0.3 }], tempo, swing, rate);
  const png = pianoRollPng({
    title,
    notes: melody.map((n) => ({ ...n, kind: KIND_NAMES[toneClass(n.pitch, chordAt(chords, n.start).chord)] })),
    kinds: TONE_COLOURS,
    background: [...comping, ...bass],
    labels: chords.map((c) => ({ at: c.start, text: c.chord.symbol })),
    quarters: bars * 4,
  });
  const files = [`${base}.mid`, `${base}.wav`];
  writeFileAtomic(files[0], midi);
  writeFileAtomic(files[1], encodeWav16(audio, rate));
  if (png) {
    writeFileAtomic(`${base}.png`, png);
    files.push(`${base}.png`);
  }
  return files;
}

// ---------------------------------------------------------------- sample

async function sample(_args: string[], options: Options, ctx: RunContext) {
  const bars = options.bars as number;
  let chords: ChordSpan[];
  try {
    chords = progression((options.chords as string | undefined) ?? DEFAULT_SOLO_CHORDS, bars);
  } catch (err) {
    if (err instanceof ChordError) throw new UsageError(`--chords: ${err.message}`);
    throw err;
  }
  const outDir = path.resolve(options.out as string);
  checkWritableDir(outDir, '--out folder');
  const { model, meta, config } = await loadTrained(ctx);
  const n = options.numOutputs as number;
  const tempo = options.tempo as number;
  const swing = options.swing as number;
  const temperature = options.temperature as number;
  const t0 = performance.now();
  let melodies: Note[][];
  if ((config as unknown as CourseConfig).arch === 'course') {
    if (options.primer) throw new UsageError('--primer works with the default model; the course\'s model starts from its zero input');
    const values = meta.vocabularies.values ?? [];
    melodies = [];
    for (let k = 0; k < n; k++) melodies.push(await courseSolo(model, values, chords, bars * 4, temperature, deriveSeed(ctx.seed, 'jazz-sample', k)));
  } else {
    const primer = primerEvents(options.primer as string | undefined, { melody: config.melodyTrack ?? 'auto', chords: config.chordTrack ?? 'auto' });
    const steps = bars * STEPS_PER_BAR;
    if (primer.length >= steps) throw new UsageError(`--primer lasts ${primer.length / STEPS_PER_BAR} bars: give --bars more than that`);
    melodies = (await sampleEvents(model, chords, steps, n, temperature, deriveSeed(ctx.seed, 'jazz-sample'), primer)).map((events) => decodeEvents(events));
  }
  const seconds = (performance.now() - t0) / 1000;
  makeDirs(outDir);
  const outputs = melodies.map((melody, k) => {
    const shares = toneShares(melody, chords);
    const base = path.join(outDir, `jazz-solo-${k + 1}`);
    const files = writeSolo(base, melody, chords, bars, tempo, swing, `seqlab jazz: solo ${k + 1} over ${options.chords ?? DEFAULT_SOLO_CHORDS} (${bars} bars, temperature ${options.temperature})`);
    ctx.print(`solo ${k + 1}: ${melody.length} notes, ${(100 * (shares.chord + shares.scale)).toFixed(0)}% chord or scale tones (${(100 * shares.chord).toFixed(0)}% chord tones) → ${files.map((f) => path.relative(process.cwd(), f) || f).join(', ')}`);
    return { files, notes: melody.length, chordOrScaleToneShare: shares.chord + shares.scale, chordToneShare: shares.chord };
  });
  ctx.print(`${n} solo${n > 1 ? 's' : ''} of ${bars} bars sampled in ${seconds.toFixed(2)} s`);
  const mean = (f: (o: (typeof outputs)[number]) => number) => outputs.reduce((s, o) => s + f(o), 0) / outputs.length;
  return { chords: options.chords ?? DEFAULT_SOLO_CHORDS, bars, outputs, chordOrScaleToneShare: mean((o) => o.chordOrScaleToneShare), sampleSeconds: +seconds.toFixed(3) };
}

// ---------------------------------------------------------------- eval

/** Jensen-Shannon divergence (bits) between two histograms. */
function jsDivergence(a: readonly number[], b: readonly number[]): number {
  const sa = a.reduce((s, x) => s + x, 0) || 1;
  const sb = b.reduce((s, x) => s + x, 0) || 1;
  let d = 0;
  a.forEach((x, i) => {
    const p = x / sa;
    const q = b[i] / sb;
    const m = (p + q) / 2;
    if (p > 0) d += 0.5 * p * Math.log2(p / m);
    if (q > 0) d += 0.5 * q * Math.log2(q / m);
  });
  return d;
}

/** Where melody notes fall relative to the chord's root: 12 counts. */
function chordRelativeHistogram(melody: readonly Note[], chords: readonly ChordSpan[]): number[] {
  const h = new Array<number>(12).fill(0);
  for (const n of melody) {
    const c = chordAt(chords, n.start).chord;
    if (c.root >= 0) h[(((n.pitch - c.root) % 12) + 12) % 12]++;
  }
  return h;
}

/** --arch course: the course has no held-out set, so its own windows, and what solos over the default chords play. */
async function evaluateCourse(model: tf.LayersModel, meta: { vocabularies: Record<string, readonly string[]> }, config: CourseConfig, options: Options, ctx: RunContext) {
  const data = courseTokens(config.midi, { melody: config.melodyTrack, chords: config.chordTrack }, config.soloQuarters);
  const V = data.values.length;
  const { x, y } = courseWindows(data.tokens, data.values);
  const { m, tx } = COURSE;
  const [mean] = await readData(() => {
    const out = model.evaluate(tf.tensor3d(x, [m, tx, V]), tf.tensor3d(y, [m, tx, V]), { batchSize: m });
    return Array.isArray(out) ? out[0] : out;
  });
  const chords = progression(DEFAULT_SOLO_CHORDS, 16);
  const n = options.n as number;
  const solos: Note[][] = [];
  for (let k = 0; k < n; k++) solos.push(await courseSolo(model, meta.vocabularies.values ?? [], chords, 64, options.temperature as number, deriveSeed(ctx.seed, 'jazz-eval', k)));
  const all = solos.flat();
  const shares = toneShares(all.sort((a, b) => a.start - b.start), chords);
  ctx.print(`jazz eval (--arch course): the course has no held-out set; on its own ${m} training windows: ${((mean * tx) / (tx - 1)).toFixed(3)} nats per token (${(mean * tx).toFixed(3)} summed over ${tx} steps, as the course prints its loss)`);
  ctx.print(`  ${n} solos over ${DEFAULT_SOLO_CHORDS} (16 bars): chord tones ${(100 * shares.chord).toFixed(1)}%, scale ${(100 * shares.scale).toFixed(1)}%, approach ${(100 * shares.approach).toFixed(1)}%, other ${(100 * shares.other).toFixed(1)}%`);
  return { arch: 'course', heldOut: null, trainingNatsPerToken: (mean * tx) / (tx - 1), summedLoss: mean * tx, sampled: { solos: n, ...shares, chordOrScaleToneShare: shares.chord + shares.scale } };
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const { model, meta, config } = await loadTrained(ctx);
  if ((config as unknown as CourseConfig).arch === 'course') return evaluateCourse(model, meta, config as unknown as CourseConfig, options, ctx);
  const leads = leadsFor(config, meta.seed);
  const { train: trainLeads, held } = splitPieces(leads);
  if (!held.length) throw new SeqlabError('this model was trained on one piece: nothing was held out to evaluate on');
  const trainSeqs = allSequences(trainLeads, true);
  const heldSeqs = allSequences(held, false);
  // baselines from the training events: how often each event comes, and how often an event repeats the last
  const counts = new Array<number>(EVENTS).fill(1);
  let repeats = 0;
  let total = 0;
  for (const s of trainSeqs) s.events.forEach((e, t) => {
    counts[e]++;
    if (t > 0) {
      total++;
      if (e === s.events[t - 1]) repeats++;
    }
  });
  const sum = counts.reduce((a, b) => a + b, 0);
  const r = repeats / total;
  let unigram = 0;
  let repeatLast = 0;
  let events = 0;
  for (const s of heldSeqs) s.events.forEach((e, t) => {
    unigram -= Math.log(counts[e] / sum);
    repeatLast -= Math.log(t > 0 && e === s.events[t - 1] ? r : t > 0 ? (1 - r) / (EVENTS - 1) : 1 / EVENTS);
    events++;
  });
  const { nll } = await sequenceNll(model, heldSeqs);
  const heldOut = { events, nats: nll / events, perplexity: Math.exp(nll / events), unigramNats: unigram / events, repeatLastNats: repeatLast / events };
  ctx.print(`jazz eval on ${held.length} held-out pieces (${events} sixteenths):`);
  ctx.print(`  NLL ${heldOut.nats.toFixed(3)} nats per event (perplexity ${heldOut.perplexity.toFixed(2)}); baselines: unigram ${heldOut.unigramNats.toFixed(3)}, repeat-last ${heldOut.repeatLastNats.toFixed(3)}`);

  // solos sampled over the held-out pieces' chords, against those pieces' own melodies
  const n = options.n as number;
  const sampled: Note[][] = [];
  const under: ChordSpan[][] = [];
  for (let k = 0; k < n; k++) {
    const lead = held[k % held.length];
    const [events] = await sampleEvents(model, lead.chords, lead.bars * STEPS_PER_BAR, 1, options.temperature as number, deriveSeed(ctx.seed, 'jazz-eval', k));
    sampled.push(decodeEvents(events));
    under.push(lead.chords);
  }
  const shares = (melodies: Note[][], chords: ChordSpan[][]) => {
    const all = melodies.map((m, k) => toneShares(m, chords[k]));
    const notes = all.reduce((s, a) => s + a.notes, 0) || 1;
    const w = (key: 'chord' | 'scale' | 'approach' | 'other') => all.reduce((s, a) => s + a[key] * a.notes, 0) / notes;
    return { chord: w('chord'), scale: w('scale'), approach: w('approach'), other: w('other'), notes: notes };
  };
  const ours = shares(sampled, under);
  const corpus = shares(held.map((l) => l.melody), held.map((l) => l.chords));
  const sumHist = (ms: Note[][], cs: ChordSpan[][]) => ms.map((m, k) => chordRelativeHistogram(m, cs[k])).reduce((a, b) => a.map((x, i) => x + b[i]), new Array<number>(12).fill(0));
  const js = jsDivergence(sumHist(sampled, under), sumHist(trainLeads.map((l) => l.melody), trainLeads.map((l) => l.chords)));
  // memorisation: 8-note runs (7 intervals and 8 lengths, so any key) that also occur in the training melodies
  const grams = (m: readonly Note[]) => m.slice(7).map((_, k) => m.slice(k, k + 8).map((n, j, w) => `${j ? n.pitch - w[j - 1].pitch : ''}/${Math.round(n.duration * STEPS_PER_QUARTER)}`).join(' '));
  const known = new Set(trainLeads.flatMap((l) => grams(l.melody)));
  const sampledGrams = sampled.flatMap(grams);
  const copied = sampledGrams.length ? sampledGrams.filter((g) => known.has(g)).length / sampledGrams.length : 0;
  const barsOf = (ls: readonly { bars: number }[]) => ls.reduce((s, l) => s + l.bars, 0);
  const sampledBars = Array.from({ length: n }, (_, k) => held[k % held.length]).reduce((s, l) => s + l.bars, 0);
  const notesPerBar = { sampled: ours.notes / sampledBars, heldOut: corpus.notes / barsOf(held) };
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  ctx.print(`  ${n} sampled solos (${ours.notes} notes) over the held-out chords: chord tones ${pct(ours.chord)}, scale ${pct(ours.scale)}, approach ${pct(ours.approach)}, other ${pct(ours.other)}`);
  ctx.print(`  the held-out melodies themselves: chord tones ${pct(corpus.chord)}, scale ${pct(corpus.scale)}, approach ${pct(corpus.approach)}, other ${pct(corpus.other)}`);
  ctx.print(`  chord-relative pitch-class histogram vs the training melodies: Jensen-Shannon ${js.toFixed(4)} bits (0 = the same)`);
  ctx.print(`  8-note runs copied from the training melodies: ${pct(copied)} of ${sampledGrams.length}; notes per bar ${notesPerBar.sampled.toFixed(1)} (held-out melodies: ${notesPerBar.heldOut.toFixed(1)})`);
  return { heldOut, sampled: { solos: n, ...ours, chordOrScaleToneShare: ours.chord + ours.scale, copiedEightNoteShare: copied, notesPerBar: notesPerBar.sampled }, heldOutMelodies: { ...corpus, notesPerBar: notesPerBar.heldOut }, pitchClassJs: js };
}

// ---------------------------------------------------------------- the task

const TRACK_OPTIONS = [
  { key: 'melodyTrack', flags: '--melody-track <n>', help: 'the melody\'s track in --midi files (0-based, as listed), or auto: the one-note-at-a-time part with the most notes from middle C up', type: 'string', default: 'auto' },
  { key: 'chordTrack', flags: '--chord-track <n>', help: 'the chords\' track, or auto: the part with the most onsets of three or more notes', type: 'string', default: 'auto' },
] as const;

export const jazz: Task = {
  name: 'jazz',
  summary: 'an LSTM that improvises jazz over chords: generated corpus or your MIDI → MIDI, WAV and piano roll',
  examples: [
    'seqlab train jazz',
    'seqlab sample jazz --chords "Dm7 G7 Cmaj7 Cmaj7" --bars 16',
    'seqlab sample jazz --chords "Cm7 F7 | Bbmaj7 | Ebmaj7 | Am7b5 D7 | Gm6" --temperature 0.8 --num-outputs 4',
    'seqlab eval jazz',
    'seqlab train jazz --midi tune1.mid tune2.mid --melody-track auto',
    'seqlab train jazz --arch course --midi original_metheny.mid',
  ],
  train: {
    help: 'learn melodies over chords from the generated corpus (ii-V-I, blues, rhythm changes ... in all keys) and/or your MIDI files',
    options: [
      { key: 'arch', flags: '--arch <a>', help: 'default (chord-conditioned events, any MIDI) or course (the course\'s grammar tokens and LSTM(64), one MIDI file)', type: ['default', 'course'], default: 'default' },
      { key: 'soloQuarters', flags: '--solo-quarters <from-to>', help: '--arch course: the solo, in quarter notes (auto: the course\'s 476-548 in its MIDI, else the whole file)', type: 'string', default: 'auto' },
      { key: 'midi', flags: '--midi <files...>', help: 'your MIDI files (a melody track and a chord track each); with them the generated corpus is off unless --pieces is given', type: 'string' },
      ...TRACK_OPTIONS,
      { key: 'pieces', flags: '--pieces <n>', help: 'generated lead sheets to learn from (default 84; 0 with --midi: only your files)', type: 'int', min: 0 },
      { key: 'epochs', flags: '--epochs <n>', help: 'epochs (default 16)', type: 'int', min: 1 },
      { key: 'batches', flags: '--batches <n>', help: 'batches per epoch', type: 'int', default: 40, min: 1 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'windows per batch', type: 'int', default: 64, min: 1 },
      { key: 'windowBars', flags: '--window-bars <n>', help: 'bars per training window', type: 'int', default: 4, min: 1, max: 64 },
      { key: 'layers', flags: '--layers <n>', help: 'stacked LSTMs', type: 'int', default: 2, min: 1, max: 4 },
      { key: 'units', flags: '--units <n>', help: 'units per LSTM', type: 'int', default: 128, min: 1 },
      { key: 'dropout', flags: '--dropout <x>', help: 'dropout after each LSTM', type: 'number', default: 0.3, min: 0, max: 0.9 },
      { key: 'lr', flags: '--lr <x>', help: 'Adam learning rate', type: 'number', default: 0.002, min: 1e-9 },
    ],
    resumable: true,
    run: train,
  },
  eval: {
    help: 'held-out NLL per event beside unigram and repeat-last baselines; chord/scale/approach/other shares of sampled solos',
    options: [
      { key: 'n', flags: '--n <k>', help: 'solos to sample over the held-out pieces\' chords', type: 'int', default: 16, min: 1, max: 10000 },
      { key: 'temperature', flags: '--temperature <t>', help: 'sampling temperature (0: the most likely event)', type: 'number', default: 1, min: 0 },
    ],
    run: evaluate,
  },
  sample: {
    help: 'improvise over a chord progression: MIDI (melody, comping, bass), a WAV and a piano roll per solo',
    options: [
      { key: 'chords', flags: '--chords <symbols>', help: `one chord per bar, or bars split by | ("Dm7 G7 | Cmaj7"); default "${DEFAULT_SOLO_CHORDS}"`, type: 'string' },
      { key: 'bars', flags: '--bars <n>', help: 'bars to improvise (the progression repeats)', type: 'int', default: 16, min: 1, max: 512 },
      { key: 'temperature', flags: '--temperature <t>', help: 'sampling temperature (0: the most likely event)', type: 'number', default: 1, min: 0, max: 10 },
      { key: 'primer', flags: '--primer <notes|file.mid>', help: 'start from these MIDI pitches as eighths ("60 62 64") or a MIDI file\'s first two bars', type: 'string' },
      { key: 'numOutputs', flags: '--num-outputs <n>', help: 'solos to write', type: 'int', default: 1, min: 1, max: 100 },
      { key: 'tempo', flags: '--tempo <bpm>', help: 'quarter notes per minute', type: 'number', default: 140, min: 20, max: 400 },
      { key: 'swing', flags: '--swing <ratio>', help: 'where the off-beat eighth falls in the beat (0.5 straight, 0.66 swung)', type: 'number', default: 0.66, min: 0.5, max: 0.8 },
      { key: 'out', flags: '--out <dir>', help: 'folder for jazz-solo-N.mid/.wav/.png', type: 'string', default: 'jazz-solos' },
    ],
    run: sample,
  },
};
