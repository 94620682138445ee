/**
 * trigger: "activate" detection, from synthesized audio to `seqlab detect trigger clip.wav`.
 *
 * speech.ts (eSpeak NG words) + pool.ts (the cached word pool, a user's recordings) →
 * examples.ts (the course's 10 s recipe + noise, rooms, levels) → frontend.ts (PCEN or log-mel, or the
 * course's spectrogram) → model.ts (Conv1D → GRU → GRU → sigmoid per step, or the course's model)
 * → train on random crops → score.ts (probability track, detections, metrics) → eval / detect / sample.
 */
import * as fs from 'fs';
import * as path from 'path';
import { chime, overlay } from '../../audio/mix';
import { encodeWav16, WavError, WavReader } from '../../audio/wav';
import { resample } from '../../audio/resample';
import { CheckpointMeta, defaultCheckpointDir, loadCheckpoint, partnerDir, readCheckpointMeta, removePartner } from '../../core/checkpoint';
import { SeqlabError, UsageError } from '../../core/errors';
import { checkWritableFile, fileError, writeFileAtomic } from '../../core/files';
import { lineChartPng, trackPng, writeLossChart } from '../../core/plot';
import { formatSeconds } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { Options, RunContext, Task } from '../../core/task';
import { beginTraining, checkpointSaver, interruption, trainLoop } from '../../core/train';
import { cropBatch, HardNegatives, mineHardNegatives } from './data';
import { COURSE_RECIPE, EXAMPLE_SECONDS, makeExample, NEGATIVE_ONLY, Recipe, Segment, TRAINING_RECIPE } from './examples';
import { DEFAULT_FEATURES, DEFAULT_STRIDE, EMBEDDING_LABEL_DELAY, FEATURE_KINDS, FeatureKind, frontEnd, FrontEnd, LABEL_SECONDS, labelTrack, ModelKind } from './frontend';
import { embeddingRuntime } from './embedding';
import { buildTriggerModel, compileTriggerModel, DEFAULT_MODEL, EMBEDDING_MODEL } from './model';
import { cachePool, DEFAULT_POOL, flitePool, heldOutPool, poolFile, Pools, PoolSize, readRecordings, SAMPLE_RATE, SpeechPool, speechPools, withoutWhispers } from './pool';
import { FLITE_VOICES, FliteVoiceName } from './flite';
import { detect, Detection, ensembleOf, frameMetrics, frrAt, joinTracks, Part, PARTNER_AGAINST, Scored, Scorer, scoreFeatures, scoreStream, sweep, Track } from './score';
import { CHUNK, featureSet, FeatureSet, featureSets, Renewal, SetJob, withoutBackgrounds } from './sets';

interface TriggerConfig {
  model: ModelKind;
  examples: number;
  epochs: number;
  batchSize: number;
  cropSeconds: number;
  lr: number;
  /** the default model's frames per answer */
  stride: number;
  /** the default model's features (absent in checkpoints trained on log-mel, before PCEN) */
  features?: FeatureKind;
  /** the default model's GRU units */
  units: number;
  /** SpecAugment frequency mask: up to this many bands (0: none) */
  freqMask: number;
  /** the share of crops taken from mined hard negatives once mining starts (0: no mining; absent in older checkpoints) */
  hardNegatives?: number;
  /** a new generation of training examples every this many epochs (0: one set throughout; absent in older checkpoints) */
  renewEvery?: number;
  /** half the crops' bands stretched or squeezed by up to this share (a vocal tract length; absent in older checkpoints) */
  warp?: number;
  voices: number;
  /** the Flite voices in the training pool (absent in checkpoints from before Flite: eSpeak NG alone) */
  flite?: FliteVoiceName[];
  activates: string | null;
  negatives: string | null;
  backgrounds: string | null;
  /** a partner model on the speech embedding is trained into <checkpoint>/embedding after this one (absent in older checkpoints: none) */
  partner?: boolean;
  /** the labels start this long after each activate ends (s; absent in older checkpoints: 0, as the course's) */
  labelDelay?: number;
  /** the mel front end's high-pass (Hz; absent in older checkpoints: 0, none) */
  highPassHz?: number;
  /** the lowest SNR (dB) of the training examples mixed below 20 dB (absent in older checkpoints: 0) */
  lowestSnr?: number;
}

/** `--flite all|none|rms,slt,...` as a list of Flite voices */
function fliteVoices(value: string): FliteVoiceName[] {
  if (value === 'all') return [...FLITE_VOICES];
  if (value === 'none') return [];
  const names = value.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(FLITE_VOICES as readonly string[]).includes(n));
  if (!names.length || unknown.length) throw new UsageError(`--flite ${value}: give all, none, or Flite voices from ${FLITE_VOICES.join(', ')} (comma-separated)`);
  return [...new Set(names)] as FliteVoiceName[];
}

/** what a checkpoint's pool was synthesized with */
const poolSize = (config: Pick<TriggerConfig, 'voices' | 'flite'>): PoolSize => ({ ...DEFAULT_POOL, voices: config.voices, flite: config.flite ?? [] });

/** what a checkpoint's default model hears: checkpoints from before PCEN have no field and were trained on log-mel */
const featuresOf = (config: TriggerConfig): FeatureKind => config.features ?? 'log-mel';

/** what a checkpoint's model hears (its model, stride, features and high-pass) */
const frontEndOf = (config: TriggerConfig): FrontEnd => frontEnd(config.model, config.stride, featuresOf(config), config.highPassHz ?? 0);

/** held-out examples (unseen voices) checked after each epoch: 64, fewer for tiny runs */
const validationExamples = (examples: number) => Math.min(64, Math.max(8, Math.round(examples / 8)));
/** the course's recipe with at least one activate: what validation and eval's positives use */
const POSITIVES: Recipe = { ...COURSE_RECIPE, activates: [1, 4] };

// ---------------------------------------------------------------- data

/**
 * The synthesized word pool and a user's recordings. `synthetic: false` (eval on a user's own activates
 * and other words, where no synthesized word is heard) skips the synthetic pool: no synthesis, no cache.
 * `whispers: false` leaves the whispering training voices out (the speech embedding's partner).
 */
async function loadPools(seed: number, size: PoolSize, cfg: Pick<TriggerConfig, 'activates' | 'negatives' | 'backgrounds'>, ctx: RunContext, { use = 'beside the synthesized ones', synthetic = true, whispers = true } = {}): Promise<Pools> {
  // a user's folders are read first: a bad folder is reported before minutes of synthesis
  const user = {
    activates: cfg.activates ? readRecordings(cfg.activates, 'activates', true) : [],
    negatives: cfg.negatives ? readRecordings(cfg.negatives, 'negatives', true) : [],
    backgrounds: cfg.backgrounds ? readRecordings(cfg.backgrounds, 'backgrounds', false) : [],
  };
  const none = (): SpeechPool => ({ activates: [], negatives: [], negativeTexts: [] });
  const pools = synthetic ? await speechPools(seed, size, ctx.reporter) : { train: none(), test: none() };
  const { test } = pools;
  const train = whispers ? pools.train : withoutWhispers(pools.train);
  if (train !== pools.train) ctx.reporter.info(`without the ${pools.train.whispered!.length} whispering voices of the word pool's ${size.voices}`);
  if (user.activates.length || user.negatives.length || user.backgrounds.length) {
    ctx.reporter.info(`your recordings: ${user.activates.length} activates, ${user.negatives.length} other words, ${user.backgrounds.length} backgrounds (${use})`);
  }
  // a user's words weigh as much as the synthesized ones: repeated to a third of the pool
  const repeat = (clips: Float32Array[], n: number) => (clips.length ? Array.from({ length: Math.max(clips.length, Math.round(n / 3)) }, (_, i) => clips[i % clips.length]) : []);
  return {
    train: {
      activates: [...train.activates, ...repeat(user.activates, train.activates.length)],
      negatives: [...train.negatives, ...repeat(user.negatives, train.negatives.length)],
      negativeTexts: [...train.negativeTexts, ...repeat(user.negatives, train.negatives.length).map(() => '')],
    },
    test,
    backgrounds: user.backgrounds,
    user: { activates: user.activates, negatives: user.negatives },
  };
}

const withBackgrounds = (recipe: Recipe, pools: Pools): Recipe => (pools.backgrounds.length ? { ...recipe, backgrounds: pools.backgrounds } : recipe);

function refuseCourseTraining(ctx: RunContext): void {
  if (ctx.backend.name === 'wasm' || ctx.backend.name === 'cpu') {
    throw new SeqlabError(
      `--model course cannot train on the ${ctx.backend.name} backend: its 5,511-step spectrograms and two GRU(128) over 1,375 steps need more than ` +
      'wasm\'s 4 GiB heap (and days on cpu). Train it on a GPU (--backend webgpu) or where @tensorflow/tfjs-node or -node-gpu loads (--backend node or cuda); ' +
      'its checkpoints still run `detect` and `eval` here. The default model trains here.',
    );
  }
}

// ---------------------------------------------------------------- train

/**
 * With new examples every 5 epochs, more epochs pay. 60 against 40 with Flite's voices (`eval
 * trigger`, FRR at ≤ 1 false alarm/h): seed 1 6.9% against 8.7 and 13.2%, seed 2 2.4% against 5.1%;
 * ~11 min against ~8 on this machine (2026-11-27).
 */
const DEFAULT_EPOCHS = 60;

/**
 * `--features embedding`'s defaults (a flag given still wins): 1,200 examples made once (~0.1 s
 * each for the embedding, on both cores), 15 epochs, no renewal or mining (each would make
 * examples again). Band masks and warps are off whatever the flags say: they act on mel bands.
 * 15 epochs, not 30 (the README's figures before 2026-11-28's partner change): on one set made
 * once, the held-out voices' loss is lowest at epochs 7-11 (four partners on 320 and 640 voices) and climbs
 * after, and 30-epoch partners are overconfident on real voices (alone, their false alarms on real
 * negatives score near 1: at ≤ 6 per hour they find 38.6 / 54.8% (seeds 1 / 2, at 0.99 / 0.96), 10-epoch
 * ones 61.1 / 64.6% (0.84 / 0.80)). With PCEN partners (scratch script, seed 1's real clips, joined and
 * smoothed, 0.14): 30 / 15 / 10 epochs 80.8 / 82.0 / 80.2% with 4.5 / 2.8 / 2.9 false alarms per hour (ten pairs).
 */
const EMBEDDING_DEFAULTS = { examples: 1200, epochs: 15, renewEvery: 0, hardNegatives: 0, labelDelay: EMBEDDING_LABEL_DELAY };

/** the partner model's sub-folder in a checkpoint */
const PARTNER = 'embedding';

/**
 * The partner hears twice the main model's training voices (its own word pool: 320 voices by
 * default, ~1 min more to synthesize). On the course's real recordings (a scratch script on seed 1's
 * clips, 1 h without the word), with each of five PCEN runs at 0.2: seed 1's partner 71.4-81.7% →
 * 74.2-86.7%, seed 2's 58.5-73.1% → 69.7-77.7%, better with every one of the ten pairs, 3-6 false
 * alarms per hour (2026-11-28). The product's evals then (each pair on its seed's clips, at 0.2): seeds
 * 1 / 2 / 3 71.0 / 61.1 / 87.6% → 75.1 / 72.6 / 82.1%. The PCEN model did not gain from more voices (README).
 */
const PARTNER_VOICES = 2;

/**
 * `train trigger`: the model (PCEN by default), then, for a default model on mel features, its
 * partner on the speech embedding in <checkpoint>/embedding (~2 min; `--no-partner` skips it),
 * which detect and eval use beside it. `--resume` finishes whichever of the two is unfinished.
 */
async function train(_args: string[], options: Options, ctx: RunContext) {
  if (ctx.explicit.has('highPass') && (options.features === 'embedding' || options.model === 'course')) {
    throw new UsageError(`--high-pass filters the mel features' audio: leave it out for ${options.model === 'course' ? '--model course' : '--features embedding'}`);
  }
  const main = await trainModel(options, ctx, ctx.checkpointDir);
  const { config } = main;
  let partner: Record<string, unknown> | undefined;
  if (config.partner) {
    const dir = partnerDir(ctx.checkpointDir, PARTNER);
    const there = fs.existsSync(path.join(dir, 'seqlab.json')) ? readCheckpointMeta(dir, 'trigger') : undefined;
    const cfg = there?.hyperparameters as unknown as TriggerConfig | undefined;
    if (there && cfg && there.epoch >= cfg.epochs && !there.interrupted) {
      ctx.reporter.info(`the embedding partner in ${dir} is trained already (${there.epoch} epochs)`);
    } else {
      ctx.reporter.info(`${there ? 'resuming' : 'training'} its partner: a model on the speech embedding (trained on real speech), in ${dir} (~2 min here); detect and eval use both`);
      const examples = Math.min(config.examples, EMBEDDING_DEFAULTS.examples);
      const epochs = Math.min(config.epochs, EMBEDDING_DEFAULTS.epochs);
      const voices = config.voices * PARTNER_VOICES;
      // a resumed partner keeps its own examples, epochs and voices
      const partnerOptions: Options = { ...options, features: 'embedding', model: 'default', partner: false, resume: !!there, ...(there ? { examples: undefined, epochs: undefined } : { examples, epochs, voices }) };
      // the partner's settings are its own defaults, not the flags given for the main model (its words and recordings are the same)
      const explicit = new Set([...ctx.explicit].filter((k) => ['activates', 'negatives', 'backgrounds', 'voices', 'flite', 'batchSize', 'cropSeconds', 'lr'].includes(k)));
      // Ctrl-C here: the main checkpoint's resume finishes the partner
      const done = await trainModel(partnerOptions, { ...ctx, checkpointDir: dir, seed: main.seed, explicit }, ctx.checkpointDir, config.epochs);
      partner = done.result;
    }
  }
  ctx.print(`checkpoint: ${ctx.checkpointDir}` + (main.chart ? ' (training curve: loss.png)' : '') + (config.partner ? `, with its embedding partner in ${partnerDir(ctx.checkpointDir, PARTNER)}` : ''));
  ctx.print('next: seqlab eval trigger, or seqlab sample trigger --out example.wav then seqlab detect trigger example.wav');
  return { ...main.result, ...(partner ? { partner } : {}), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
}

/**
 * Trains one model into ctx.checkpointDir (resumed when options.resume). After Ctrl-C it names the
 * command that resumes it: `seqlab train trigger --epochs <resumeEpochs> --resume --checkpoint <resumeDir>`
 * (a partner's: its main checkpoint, with the main model's epochs).
 */
async function trainModel(options: Options, ctx: RunContext, resumeDir: string, resumeEpochs?: number) {
  const resumed = await beginTraining('trigger', options, ctx, { epochs: options.epochs as number | undefined });
  const saved = resumed.meta?.hyperparameters as unknown as TriggerConfig | undefined;
  const seed = resumed.meta?.seed ?? ctx.seed;
  const epochs = (options.epochs as number | undefined) ?? saved?.epochs ?? DEFAULT_EPOCHS;
  const resolved = (key: 'activates' | 'negatives' | 'backgrounds') => (options[key] ? path.resolve(options[key] as string) : null);
  // the speech embedding's own defaults where a flag does not say (embedding.ts costs ~0.1 s per 10 s example with its mixing)
  const onEmbedding = !saved && options.features === 'embedding' && options.model !== 'course';
  const unless = <T>(key: string, value: T) => (onEmbedding && !ctx.explicit.has(key) ? value : (options[key] as T));
  const config: TriggerConfig = saved ? { ...saved, epochs } : {
    model: options.model as ModelKind,
    // the course model's spectrograms are 2.2 MB per 10 s example (log-mel: 160 KB), all kept in memory
    examples: (options.examples as number | undefined) ?? (options.model === 'course' ? 400 : onEmbedding ? EMBEDDING_DEFAULTS.examples : 2000),
    epochs: onEmbedding && options.epochs === undefined ? EMBEDDING_DEFAULTS.epochs : epochs,
    batchSize: options.batchSize as number,
    cropSeconds: options.cropSeconds as number,
    lr: options.lr as number,
    // band masks and warps are for mel bands, not the embedding's numbers
    freqMask: onEmbedding ? 0 : (options.freqMask as number),
    hardNegatives: unless('hardNegatives', EMBEDDING_DEFAULTS.hardNegatives),
    warp: onEmbedding ? 0 : (options.warp as number),
    renewEvery: unless('renewEvery', EMBEDDING_DEFAULTS.renewEvery),
    stride: onEmbedding ? 1 : DEFAULT_STRIDE,
    features: options.features as FeatureKind,
    units: unless('units', EMBEDDING_MODEL.units),
    voices: options.voices as number,
    flite: fliteVoices(options.flite as string),
    activates: resolved('activates'),
    negatives: resolved('negatives'),
    backgrounds: resolved('backgrounds'),
    partner: options.model !== 'course' && options.features !== 'embedding' && options.partner !== false,
    labelDelay: unless('labelDelay', EMBEDDING_DEFAULTS.labelDelay),
    highPassHz: onEmbedding || options.model === 'course' ? 0 : (options.highPass as number),
    lowestSnr: onEmbedding ? 0 : (options.lowestSnr as number),
  };
  if (!resumed.meta && removePartner(ctx.checkpointDir, PARTNER)) ctx.reporter.info(`removed the old checkpoint's embedding partner (${partnerDir(ctx.checkpointDir, PARTNER)}): a new training replaces both`);
  const last = resumed.meta?.history[resumed.meta.history.length - 1];
  if (resumed.meta && resumed.meta.epoch >= config.epochs && !resumed.meta.interrupted) {
    // trained already (a resume that goes on to the partner)
    return { config, seed, chart: fs.existsSync(path.join(ctx.checkpointDir, 'loss.png')), result: { model: config.model, seconds: resumed.meta.trainSeconds, valF1: last?.val_f1, valLoss: last?.val_loss, checkpoint: ctx.checkpointDir } };
  }
  if (config.model === 'course') refuseCourseTraining(ctx);
  const features = featuresOf(config);
  const fe = frontEndOf(config);
  const t0 = performance.now();
  // the partner's word pool (twice the voices, same seed) holds this one's voices: synthesized first, once, it serves both
  if (config.partner) await cachePool(seed, poolSize({ ...config, voices: config.voices * PARTNER_VOICES }), ctx.reporter);
  // the partner on the speech embedding hears no whispers: trained with them it fired on real rooms' noise, before eSpeak's
  // words were high-passed (README, "Whispering training voices") and after (seed 1: 78.2% of the course's real activates with 9
  // false alarms per hour at 0.16, against 80.6% with 4; held-out caleb's misses 24 → 3 of 71, pooled 7.1 → 6.5%)
  const pools = await loadPools(seed, poolSize(config), config, ctx, { whispers: features !== 'embedding' });
  // the random equalizer is for the models on mel bands or spectrograms: the speech embedding's model, trained
  // with it, fired more on real negatives and found no more real activates (README, "This release ... third")
  const trainingRecipe = withBackgrounds(features === 'embedding' ? { ...TRAINING_RECIPE, eq: undefined } : { ...TRAINING_RECIPE, lowestSnr: config.lowestSnr ?? 0 }, pools);
  const generations = { model: config.model, stride: config.stride, features, highPassHz: config.highPassHz ?? 0, recipe: trainingRecipe, count: config.examples, seed };
  const renewing = config.renewEvery && config.epochs > config.renewEvery ? config.renewEvery : 0;
  const renewal = new Renewal(pools.train, generations, renewing, config.epochs);
  const set = await renewal.start((resumed.meta?.epoch ?? 0) + 1, ctx.reporter);
  const val = await featureSet(fe, pools.test, POSITIVES, validationExamples(config.examples), seed, 'validation examples', ctx.reporter);
  const valLabels = val.activates.map((words) => labelTrack(fe, words.map((w) => w.end), fe.outputSteps(val.frames), 0, config.labelDelay ?? 0));
  const dataSeconds = (performance.now() - t0) / 1000;
  ctx.reporter.info(`data: ${config.examples} examples of ${EXAMPLE_SECONDS} s (${formatSeconds(dataSeconds)}); ${val.features.length} held-out examples in unseen voices for validation`);

  const architecture = features === 'embedding' ? EMBEDDING_MODEL : DEFAULT_MODEL;
  const model = resumed.model ?? buildTriggerModel(config.model, seed, { ...architecture, stride: config.stride, units: config.units });
  if (!resumed.model) compileTriggerModel(model, config.lr);
  const cropFrames = config.model === 'course' ? set.frames : Math.round(config.cropSeconds * fe.framesPerSecond);
  const batchesPerEpoch = Math.ceil(config.examples / config.batchSize);
  ctx.reporter.info(`trigger ${config.model}: ${model.countParams().toLocaleString('en-US')} weights; ${config.epochs} epochs of ${batchesPerEpoch} batches of ${config.batchSize} crops of ${config.model === 'course' ? EXAMPLE_SECONDS : config.cropSeconds} s`);
  const saver = checkpointSaver(ctx, { task: 'trigger', seed, hyperparameters: { ...config }, vocabularies: {} }, resumed.meta);
  const hard = { set: { features: [], at: [] } as HardNegatives, share: config.hardNegatives ?? 0 };
  const mining = miningSchedule(config.epochs, config.examples);
  const miningJob = (epoch: number): SetJob => ({
    recipe: { ...withoutBackgrounds(trainingRecipe), activates: [0, 0], negatives: NEGATIVE_ONLY.negatives },
    count: mining.candidates,
    seed: deriveSeed(seed, 'trigger-mining', epoch),
    name: 'mining negatives',
    range: [0, mining.candidates],
  });
  const result = await trainLoop({
    model,
    epochs: config.epochs,
    resumed: resumed.meta,
    batchesPerEpoch,
    beforeEpoch: async (epoch) => {
      // the candidates of the next mining round are made in the worker, asked for before the next generation so they are ready in time
      if (hard.share) for (let e = epoch; e <= Math.min(config.epochs, epoch + MINING_LOOKAHEAD); e++) if (mining.at(e)) renewal.ahead(`mining ${e}`, miningJob(e));
      const before = renewal.generationOf(epoch - 1);
      const [here, asked] = [renewal.chunksMade.here, performance.now()];
      const g = await renewal.prepare(epoch, set, ctx.reporter);
      // chunks the worker had not reached when they were needed were made here (training waited meanwhile)
      const late = renewal.chunksMade.here - here;
      const waited = late ? `; the worker was late: ${Math.min(config.examples, late * CHUNK)} of them made here while training waited ${formatSeconds((performance.now() - asked) / 1000)}` : '';
      if (epoch > 1 && g !== before) ctx.reporter.info(`epoch ${epoch}: ${config.examples} new training examples (generation ${g + 1} of ${renewal.generationOf(config.epochs) + 1}, made beside training${waited})`);
      // a resumed run mines once at its first epoch, to have hard negatives to go on with
      if (!hard.share || epoch < mining.first || (!mining.at(epoch) && hard.set.features.length)) return;
      const t = performance.now();
      const found = await mineHardNegatives(model, fe, await renewal.take(`mining ${epoch}`, miningJob(epoch), ctx.reporter), MINING_KEEP);
      hard.set.features.push(...found.features);
      hard.set.at.push(...found.at);
      // the oldest go first
      hard.set.features.splice(0, Math.max(0, hard.set.features.length - mining.cap));
      hard.set.at.splice(0, Math.max(0, hard.set.at.length - mining.cap));
      const median = found.peaks[Math.floor(found.peaks.length / 2)];
      ctx.reporter.info(`hard negatives: the ${found.features.length} of ${mining.candidates} new negative-only examples the model scored highest (peak ${found.peaks[0].toFixed(3)}, median ${median.toFixed(3)}) go into ${Math.round(hard.share * 100)}% of the crops; ${hard.set.features.length} in all (${formatSeconds((performance.now() - t) / 1000)})`);
    },
    batch: (epoch, i) => cropBatch(fe, set, cropFrames, config.batchSize, deriveSeed(seed, 'trigger-crops', epoch, i), { maskBands: config.freqMask, warp: config.warp ?? 0, hard, labelDelay: config.labelDelay ?? 0 }),
    // cosine decay to a tenth
    learningRate: (epoch) => config.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (epoch - 1)) / Math.max(1, config.epochs - 1)))),
    validate: async () => {
      const m = frameMetrics(await scoreFeatures(model, val.features, val.frames, val.bands), valLabels);
      return { val_loss: m.loss, val_f1: m.f1 };
    },
    save: (epoch, history, interrupted) => saver.save(model, epoch, history, { interrupted }),
    reporter: ctx.reporter,
    averageLast: Math.min(config.epochs, Math.max(1, Math.round(config.epochs / 6))),
  }).finally(() => renewal.close());
  if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'trigger', `seqlab train trigger --epochs ${resumeEpochs ?? config.epochs}`, ctx.print, resumeDir);
  const chart = writeLossChart(ctx.checkpointDir, {
    title: `trigger ${config.model}`,
    xLabel: 'epoch',
    series: [
      { name: 'training loss', points: result.history.map((h) => [h.epoch, h.loss]) },
      { name: 'held-out loss (unseen voices)', points: result.history.map((h) => [h.epoch, h.val_loss]) },
      { name: 'held-out 1 − frame F1', points: result.history.map((h) => [h.epoch, 1 - h.val_f1]) },
    ],
  });
  const final = result.averaged ?? result.history[result.history.length - 1];
  const seconds = saver.trainSeconds();
  ctx.print(`trigger ${config.model}${features === 'embedding' ? ' on the speech embedding' : ''}: trained in ${formatSeconds(seconds)} (data ${formatSeconds(dataSeconds)}); held-out frame F1 ${(final?.val_f1 ?? NaN).toFixed(3)}, loss ${(final?.val_loss ?? NaN).toFixed(4)}`);
  return {
    config,
    seed,
    chart: !!chart,
    result: { model: config.model, seconds: +seconds.toFixed(1), dataSeconds: +dataSeconds.toFixed(1), valF1: final?.val_f1, valLoss: final?.val_loss, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), checkpoint: ctx.checkpointDir },
  };
}

/** how many epochs ahead a mining round's candidates are asked of the worker */
const MINING_LOOKAHEAD = 5;

/** the share of each mining round's candidates kept: the ones the model scored highest */
const MINING_KEEP = 0.2;

/**
 * Hard-negative mining: from a third of the way in, every sixth of the epochs (60 epochs: before
 * epochs 21, 31, 41, 51), a fifth as many fresh negative-only examples as the training set, in
 * training voices, are scored; the fifth the model fired on most join the crops, up to a fifth of
 * the training set's size in all.
 */
function miningSchedule(epochs: number, examples: number) {
  // never before the model has trained an epoch
  const first = Math.max(2, Math.floor(epochs / 3) + 1);
  const every = Math.max(1, Math.round(epochs / 6));
  const fifth = Math.max(8, Math.round(examples / 5));
  return { first, at: (epoch: number) => epoch >= first && (epoch - first) % every === 0, candidates: fifth, cap: fifth };
}

// ---------------------------------------------------------------- a trained model

/**
 * The threshold of a detector that joins front ends (PCEN and the speech embedding) when --threshold
 * is not given; it fires on the joined track's moving mean over 0.2 s (score.ts' joinTracks). Chosen on real
 * voices (the course's 10 recordings mixed as eval mixes them, 1 h without the word; a scratch script
 * on seed 1's clips) over nine pairs (PCEN models of seeds 1-3 trained with the random equalizer,
 * partners of seeds 1-3 on 320 voices, 15 epochs): 0.14 / 0.16 / 0.18 found 84.7 / 83.6 / 82.2%
 * with 4.3 / 3.4 / 2.9 false alarms per hour on average (0.14: one pair at 9, over 6; 0.16: the
 * most 6), where the same nine pairs' PCEN models without the equalizer found 79.6% with 2.8 at 0.14
 * (the last release's default). On held-out synthetic voices, dense with near-misses, a low
 * threshold costs false alarms (README).
 */
const JOINED_THRESHOLD = 0.16;
/** the threshold of models on one front end when --threshold is not given */
const THRESHOLD = 0.5;

/**
 * The checkpoint's model, or with `--ensemble A,B` it and those checkpoints' models as one
 * detector; each checkpoint brings its partner (<checkpoint>/embedding, trained by `train
 * trigger`) unless --no-partner. Models that hear the same features (model, features, stride) have
 * their probabilities averaged step by step; models on other front ends (PCEN and the speech
 * embedding) score the audio through their own, and those tracks join on the first model's time
 * grid as a weighted mean of log-odds (mergeTracks), each front end weighted by its number of
 * models (the embedding's "no" halved where the first is sure), then a moving mean over 0.2 s (score.ts' joinTracks). The threshold is --threshold's, or when not given 0.5 for one front end and
 * JOINED_THRESHOLD for several.
 */
async function loadTrained(ctx: RunContext, options: Options = {}) {
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'trigger');
  const config = meta.hyperparameters as unknown as TriggerConfig;
  const hears = (c: TriggerConfig) => (c.model === 'course' ? 'the course model' : `${featuresOf(c)} (stride ${c.stride}${c.highPassHz ? `, high-passed at ${c.highPassHz} Hz` : ''})`);
  const groups = new Map<string, { config: TriggerConfig; models: typeof model[] }>();
  const members: string[] = [];
  const add = (dir: string, loaded: { model: typeof model; meta: CheckpointMeta }) => {
    const c = loaded.meta.hyperparameters as unknown as TriggerConfig;
    const group = groups.get(hears(c)) ?? { config: c, models: [] };
    group.models.push(loaded.model);
    groups.set(hears(c), group);
    members.push(dir);
  };
  const withPartner = async (dir: string, loaded: { model: typeof model; meta: CheckpointMeta }) => {
    add(dir, loaded);
    const sub = partnerDir(dir, PARTNER);
    if (options.partner === false) return;
    const resumeLine = `seqlab train trigger --resume${dir === defaultCheckpointDir('trigger') ? '' : ` --checkpoint ${dir}`}`;
    if (!fs.existsSync(path.join(sub, 'seqlab.json'))) {
      // trained to have one, stopped before its first epoch was saved
      if ((loaded.meta.hyperparameters as unknown as TriggerConfig).partner) ctx.reporter.warn(`${dir}'s embedding partner was not trained (stopped before it): without it here; ${resumeLine} trains it`);
      return;
    }
    const p = readCheckpointMeta(sub, 'trigger');
    const epochs = (p.hyperparameters as unknown as TriggerConfig).epochs;
    if (p.epoch < epochs || p.interrupted) {
      ctx.reporter.warn(`${dir}'s embedding partner is not finished (${p.epoch} of ${epochs} epochs): without it here; ${resumeLine} finishes it`);
      return;
    }
    add(sub, await loadCheckpoint(sub, 'trigger'));
  };
  await withPartner(ctx.checkpointDir, { model, meta });
  const others = ((options.ensemble as string | undefined) ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  for (const dir of others) await withPartner(path.resolve(dir), await loadCheckpoint(path.resolve(dir), 'trigger'));
  const total = members.length;
  const parts: Part[] = [...groups.values()].map((g) => ({
    model: ensembleOf(g.models),
    fe: frontEndOf(g.config),
    weight: g.models.length / total,
    against: g.config.model !== 'course' && featuresOf(g.config) === 'embedding' ? PARTNER_AGAINST : 1,
  }));
  if (total > 1) {
    const heard = [...groups.entries()].map(([what, g]) => `${g.models.length} on ${what}`).join(', ');
    const join = groups.size > 1 ? 'each front end\'s mean, joined by log-odds' : 'their mean';
    ctx.reporter.info(`ensemble: ${total} models (${heard}; ${join}): ${members.join(', ')}`);
  }
  // the ONNX Runtime sessions start with the model, not with the first file
  if ([...groups.values()].some((g) => g.config.model !== 'course' && featuresOf(g.config) === 'embedding')) await embeddingRuntime();
  const threshold = (options.threshold as number | undefined) ?? (groups.size === 1 ? THRESHOLD : JOINED_THRESHOLD);
  return { parts, meta, config, fe: parts[0].fe, threshold, ensemble: total > 1 ? { ensemble: members } : {} };
}

/** An open WAV file, read at the front end's rate; one clear line for any file that is not usable audio. */
function openAudio(file: string): WavReader {
  let reader: WavReader;
  try {
    if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
    reader = WavReader.open(file);
  } catch (err) {
    if (err instanceof WavError || err instanceof SeqlabError) throw new SeqlabError(err.message);
    throw fileError('read', file, err);
  }
  const { sampleRate, frames } = reader.info;
  if (sampleRate < 8000 || sampleRate > 192000) {
    reader.close();
    throw new SeqlabError(`${file}: sample rate ${sampleRate} Hz is not supported (8,000-192,000 Hz are)`);
  }
  if (frames === 0) {
    reader.close();
    throw new SeqlabError(`${file} holds no audio (0 samples)`);
  }
  return reader;
}

/** The detector's track of a whole file (each part reads it through its own front end), plus the first part's feature image. */
async function scoreFile(parts: readonly Part[], reader: WavReader, imageFrames = 3000): Promise<Track & { image: { data: Float32Array; frames: number; bands: number } }> {
  const tracks = [];
  for (const [k, part] of parts.entries()) tracks.push(await scoreFileWith(part.model, part.fe, reader, k === 0 ? imageFrames : 1));
  return { ...joinTracks(tracks, parts), image: tracks[0].image };
}

/** The probability track of a whole file, read in windows, plus a thinned-out feature image for the picture. */
async function scoreFileWith(model: Scorer, fe: FrontEnd, reader: WavReader, imageFrames = 3000): Promise<Track & { image: { data: Float32Array; frames: number; bands: number } }> {
  const { sampleRate, frames } = reader.info;
  const total = Math.ceil((frames * fe.sampleRate) / sampleRate);
  const read = (start: number, count: number) => {
    // a little more of the file either side, so the resampler has context, then cut to the piece asked for
    const pad = sampleRate === fe.sampleRate ? 0 : 64;
    const from = Math.max(0, Math.floor((start * sampleRate) / fe.sampleRate) - pad);
    const raw = reader.read(from, Math.ceil((count * sampleRate) / fe.sampleRate) + 2 * pad);
    const x = resample(raw, sampleRate, fe.sampleRate);
    const skip = Math.round(((start * sampleRate) / fe.sampleRate - from) * (fe.sampleRate / sampleRate));
    return x.subarray(Math.max(0, skip), Math.max(0, skip) + count);
  };
  const frameSeconds = (fe.outputTime(1) - fe.outputTime(0)) / fe.stride;
  const every = Math.max(1, Math.ceil(total / fe.sampleRate / frameSeconds / imageFrames));
  const kept: Float32Array[] = [];
  const track = await scoreStream(model, fe, total, read, undefined, (data, n, startSeconds, keepFrom) => {
    for (let f = 0; f < n; f++) {
      const t = startSeconds + f * frameSeconds;
      if (t < keepFrom || Math.round(t / frameSeconds) % every) continue;
      const row = data.slice(f * fe.bands, (f + 1) * fe.bands);
      if (fe.kind === 'course') for (let b = 0; b < row.length; b++) row[b] = Math.log10(row[b] + 1e-10);
      kept.push(row);
    }
  });
  const data = new Float32Array(kept.length * fe.bands);
  kept.forEach((r, i) => data.set(r, i * fe.bands));
  return { ...track, image: { data, frames: kept.length, bands: fe.bands } };
}

/** The file with a chime added at each detection, written as 16-bit mono at its own rate, window by window, atomically. */
function writeChimed(reader: WavReader, found: readonly Detection[], out: string): void {
  const { sampleRate, frames } = reader.info;
  const bell = chime(sampleRate);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.tmp-${process.pid}`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    const header = encodeWav16(new Float32Array(0), sampleRate);
    new DataView(header.buffer).setUint32(4, 36 + frames * 2, true);
    new DataView(header.buffer).setUint32(40, frames * 2, true);
    fs.writeSync(fd, header);
    const step = sampleRate * 30;
    for (let start = 0; start < frames; start += step) {
      const x = reader.read(start, step);
      for (const d of found) overlay(x, bell, Math.round(d.time * sampleRate) - start);
      fs.writeSync(fd, encodeWav16(x, sampleRate).subarray(44));
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, out);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw fileError('write', out, err);
  }
}

function outputPath(given: unknown, input: string, suffix: string): string {
  const out = path.resolve((given as string | undefined) ?? `${path.basename(input).replace(/\.wav$/i, '')}${suffix}`);
  if (out === path.resolve(input)) throw new UsageError(`${out} is the input file: choose another output name (seqlab never writes over your files)`);
  checkWritableFile(out);
  return out;
}

// ---------------------------------------------------------------- detect

async function detectCommand(args: string[], options: Options, ctx: RunContext) {
  if (!args.length) throw new UsageError('no input: give one or more WAV files');
  if (args.length > 1 && (options.out || options.plot)) throw new UsageError('--out and --plot name the files for one input; with several inputs, each gets <name>-chimed.wav and <name>-detections.png');
  const refractory = (options.refractoryMs as number) / 1000;
  // every file is checked before the model is loaded
  for (const file of args) openAudio(file).close();
  const { parts, ensemble, threshold } = await loadTrained(ctx, options);
  const files = [];
  for (const file of args) {
    const reader = openAudio(file);
    try {
      const out = options.audio === false ? undefined : outputPath(options.out, file, '-chimed.wav');
      const plot = options.plot === false ? undefined : outputPath(options.plot, file, '-detections.png');
      const t0 = performance.now();
      const track = await scoreFile(parts, reader);
      const seconds = (performance.now() - t0) / 1000;
      const found = detect(track, threshold, refractory);
      const duration = reader.info.seconds;
      ctx.print(`${file}: ${formatSeconds(duration)} of audio, ${found.length} activate${found.length === 1 ? '' : 's'} (threshold ${threshold}; ${seconds.toFixed(2)} s, real-time factor ${(seconds / duration).toFixed(3)})`);
      for (const d of found) ctx.print(`  ${d.time.toFixed(2)} s  score ${d.score.toFixed(3)}`);
      if (out) {
        writeChimed(reader, found, out);
        ctx.print(`  chimed copy: ${out}`);
      }
      if (plot) {
        const png = trackPng({ title: `${path.basename(file)}: p(activate) and detections`, seconds: duration, image: track.image, tracks: [{ name: 'p(activate)', times: track.times, values: track.probs }], threshold, markers: found.map((d) => d.time) });
        if (png) {
          writeFileAtomic(plot, png);
          ctx.print(`  picture: ${plot}`);
        }
      }
      files.push({ file, duration, seconds: +seconds.toFixed(3), realTimeFactor: +(seconds / duration).toFixed(4), detections: found.map((d) => ({ time: +d.time.toFixed(3), score: +d.score.toFixed(4) })), ...(out ? { chimed: out } : {}), ...(plot ? { plot } : {}) });
    } finally {
      reader.close();
    }
  }
  return { threshold, refractoryMs: options.refractoryMs, ...ensemble, files };
}

// ---------------------------------------------------------------- eval

/** Which other words the false alarms on negative-only clips fell on, most first. */
function falseAlarmWords(neg: Scored, threshold: number, refractory: number): [string, number][] {
  const counts = new Map<string, number>();
  if (!neg.clips.some((c) => c.words)) return []; // a user's clips: what was said is not known
  for (const c of neg.clips) {
    for (const d of detect(c.track, threshold, refractory)) {
      const w = c.words?.find((s) => d.time >= s.start && d.time <= s.end + 0.6);
      const key = w ? w.text ?? 'a recorded word' : 'background (no word)';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const refractory = (options.refractoryMs as number) / 1000;
  let det: string | undefined;
  if (options.plot !== false) {
    det = path.resolve((options.plot as string | undefined) ?? 'trigger-det.png');
    checkWritableFile(det);
  }
  const folders = { activates: options.activates as string | undefined, negatives: options.negatives as string | undefined, backgrounds: options.backgrounds as string | undefined };
  const mine = Object.entries(folders).filter(([, dir]) => dir).map(([key]) => `--${key}`);
  if (options.data && (mine.length || options.flite)) throw new UsageError(`--data evaluates your labelled clips as they are: leave out ${[...mine, ...(options.flite ? ['--flite'] : [])].join(' and ')}`);
  if (options.flite && mine.length) throw new UsageError(`--flite and ${mine.join(' and ')} both say whose words eval mixes: give one`);
  const setCount = options.heldOutSets as number;
  const others = [...(options.data ? ['--data'] : []), ...mine, ...(options.flite ? ['--flite'] : [])];
  if (setCount > 1 && others.length) throw new UsageError(`--held-out-sets draws more held-out eSpeak voices: leave out ${others.join(' and ')}${options.data ? '' : ' (--clips and --hours give more of their clips)'}`);
  if (options.data) return evaluateFolder(options.data as string, refractory, det, ctx, options);
  const { parts, meta, config, fe, ensemble, threshold } = await loadTrained(ctx, options);
  const size = poolSize(config);
  const resolved = (dir: string | undefined) => (dir ? path.resolve(dir) : null);
  const pools = await loadPools(meta.seed, size, { activates: resolved(folders.activates), negatives: resolved(folders.negatives), backgrounds: resolved(folders.backgrounds) }, ctx, {
    use: 'in place of the held-out voices\' words; backgrounds behind ~60% of the clips',
    synthetic: !(folders.activates && folders.negatives),
  });
  const voice = options.flite as FliteVoiceName | undefined;
  let test = voice ? await flitePool(meta.seed, voice, Math.max(4, Math.round(size.voices / 5)), size, ctx.reporter) : pools.test;
  let what = voice ? `synthetic audio in Flite's ${voice} voice (${flitesHeard(size, voice)})` : `held-out synthetic audio (${HELD_OUT_NOTE})`;
  if (mine.length) ({ test, what } = withRecordings(pools, folders));
  const recipe = (r: Recipe) => withBackgrounds(r, pools);
  const negativeClips = Math.ceil(((options.hours as number) * 3600) / EXAMPLE_SECONDS);
  const fes = parts.map((part) => part.fe);
  // each clip mixed once and heard through each part's front end; the parts' tracks joined on the first's grid
  const tracks = async (sets: FeatureSet[]): Promise<Track[][]> => {
    const out = [];
    for (const [k, part] of parts.entries()) {
      const probs = await scoreFeatures(part.model, sets[k].features, sets[k].frames, sets[k].bands);
      const times = Float32Array.from({ length: probs[0]?.length ?? 0 }, (_, j) => part.fe.outputTime(j));
      out.push(probs.map((q) => ({ probs: q, times })));
    }
    return out;
  };
  const scored = (set: FeatureSet, byPart: Track[][]): Scored => ({
    clips: byPart[0].map((_, k) => ({ track: joinTracks(byPart.map((t) => t[k]), parts), ends: set.activates[k].map((w) => w.end), seconds: EXAMPLE_SECONDS, words: set.negatives[k] })),
  });
  // --held-out-sets: the held-out voices of this seed and the next ones (held-out variants no seed trains on), each set
  // mixed as this seed's own would be; pooled, and each set's figure shown, as one set's hangs on the voices drawn
  const pos: Scored = { clips: [] };
  const neg: Scored = { clips: [] };
  const labels: Float32Array[] = [];
  const perSet: { seed: number; frrAt1FaPerHour: number; thresholdAt1FaPerHour: number | null }[] = [];
  let scoreSeconds = 0;
  for (let s = 0; s < setCount; s++) {
    const setSeed = meta.seed + s;
    const words = s === 0 ? test : await heldOutPool(setSeed, size, ctx.reporter);
    const seed = deriveSeed(setSeed, 'eval');
    if (setCount > 1) ctx.reporter.info(`held-out set ${s + 1} of ${setCount}: seed ${setSeed}'s held-out voices, mixed as eval of a model of that seed mixes them`);
    // (the names seed the clips: the same as a one-set eval's)
    const positiveSets = await featureSets(fes, words, recipe(POSITIVES), options.clips as number, seed, 'clips with activates', ctx.reporter);
    const negativeSets = await featureSets(fes, words, recipe(NEGATIVE_ONLY), negativeClips, seed, 'clips without', ctx.reporter);
    const t0 = performance.now();
    const [p, n] = [scored(positiveSets[0], await tracks(positiveSets)), scored(negativeSets[0], await tracks(negativeSets))];
    scoreSeconds += (performance.now() - t0) / 1000;
    labels.push(...positiveSets[0].activates.map((ws) => labelTrack(fe, ws.map((w) => w.end), fe.outputSteps(positiveSets[0].frames), 0, config.labelDelay ?? 0)));
    pos.clips.push(...p.clips);
    neg.clips.push(...n.clips);
    if (setCount > 1) {
      const at1 = frrAt(sweep(p, n, refractory), 1);
      perSet.push({ seed: setSeed, frrAt1FaPerHour: at1.frr, thresholdAt1FaPerHour: at1.threshold });
    }
  }
  if (setCount > 1) what = `held-out synthetic audio (${HELD_OUT_NOTE}; ${setCount} sets of held-out voices, seeds ${meta.seed}-${meta.seed + setCount - 1})`;
  const frames = frameMetrics(pos.clips.map((c) => c.track.probs), labels, threshold);
  const extra = { scoreSeconds: +scoreSeconds.toFixed(1), ...ensemble, ...(perSet.length ? { heldOutSets: perSet } : {}) };
  const setNote = perSet.length ? `  each set alone, false-reject rate at ≤ 1 false alarm per hour: ${perSet.map((r) => `${(r.frrAt1FaPerHour * 100).toFixed(1)}%`).join(' / ')} (seeds ${perSet.map((r) => r.seed).join(' / ')})` : undefined;
  return report(what, pos, neg, frames, threshold, refractory, det, ctx, extra, setNote);
}

const HELD_OUT_NOTE = 'voices never used in training';

const flitesHeard = (size: PoolSize, voice: FliteVoiceName) =>
  size.flite.includes(voice) ? 'a voice this model trained on' : size.flite.length ? `a speaker never used in training, which had Flite's ${size.flite.join(', ')}` : 'a synthesizer never used in training';

/**
 * eval's word pool with a user's recordings in place of the held-out voices' words: their
 * activates and/or other words, mixed by the recipe training uses (random places, levels, speeds,
 * rooms, noise; each clip has one or two backgrounds, each of them the user's half the time, so
 * theirs are behind ~60% of the clips), so real voices are measured with the same figures as
 * synthetic ones.
 */
function withRecordings(pools: Pools, folders: Record<'activates' | 'negatives' | 'backgrounds', string | undefined>): { test: SpeechPool; what: string } {
  const held = pools.test;
  const user = pools.user;
  const test: SpeechPool = {
    activates: user.activates.length ? user.activates : held.activates,
    negatives: user.negatives.length ? user.negatives : held.negatives,
    negativeTexts: user.negatives.length ? user.negatives.map(() => '') : held.negativeTexts,
  };
  const parts = [
    user.activates.length ? `${user.activates.length} activates from ${folders.activates}` : `the held-out voices' activates`,
    user.negatives.length ? `${user.negatives.length} other words from ${folders.negatives}` : `the held-out voices' other words`,
    ...(pools.backgrounds.length ? [`${pools.backgrounds.length} backgrounds from ${folders.backgrounds} (behind ~60% of the clips)`] : []),
  ];
  return { test, what: `your recordings, mixed as training mixes: ${parts.join('; ')}` };
}

function report(what: string, pos: Scored, neg: Scored, frames: ReturnType<typeof frameMetrics> | undefined, threshold: number, refractory: number, det: string | undefined, ctx: RunContext, extra: Record<string, unknown> = {}, note?: string) {
  const points = sweep(pos, neg, refractory);
  const at = points.reduce((a, b) => (Math.abs(b.threshold - threshold) < Math.abs(a.threshold - threshold) ? b : a));
  const hours = neg.clips.reduce((s, c) => s + c.seconds, 0) / 3600;
  const words = at.words;
  const at1 = frrAt(points, 1);
  const atHalf = frrAt(points, 0.5);
  ctx.print(`trigger eval on ${what}: ${pos.clips.length} clips with ${words} activates, ${(hours * 60).toFixed(1)} min of audio without`);
  if (at.cutShort) ctx.print(`  (${at.cutShort} more activates end less than ${LABEL_SECONDS.toFixed(2)} s before their clip does: not scored, as the model answers after a word ends)`);
  if (frames) ctx.print(`  frames: accuracy ${(frames.accuracy * 100).toFixed(2)}% (all-zeros model: ${(frames.zerosAccuracy * 100).toFixed(2)}%), F1 ${frames.f1.toFixed(3)}`);
  ctx.print(`  at threshold ${at.threshold}: recall ${((1 - at.frr) * 100).toFixed(1)}% (false rejects ${(at.frr * 100).toFixed(1)}%), ${at.faPerHour.toFixed(2)} false alarms per hour (+${at.falseAlarmsInPositives} in the clips with activates)`);
  const fmt = (r: { frr: number; threshold: number | null }) => (r.threshold === null ? 'not reached at any threshold' : `${(r.frr * 100).toFixed(1)}% (threshold ${r.threshold})`);
  ctx.print(`  false-reject rate at ≤ 1 false alarm per hour: ${fmt(at1)}; at ≤ 0.5 per hour: ${fmt(atHalf)}`);
  if (note) ctx.print(note);
  if (hours < 1) ctx.print(`  (false alarms per hour are measured on ${(hours * 60).toFixed(0)} min only: --hours 1 or more for a firm figure)`);
  const culprits = falseAlarmWords(neg, at.threshold, refractory);
  if (culprits.length) ctx.print(`  false alarms at ${at.threshold} fell on: ${culprits.slice(0, 10).map(([w, n]) => `${w} ${n}`).join(', ')}`);
  if (det) {
    // the region that matters: up to 20 false alarms per hour
    const shown = points.filter((p) => Number.isFinite(p.faPerHour) && p.faPerHour <= 20).map((p) => [p.faPerHour, p.frr] as [number, number]);
    const png = lineChartPng({
      title: `trigger DET curve: ${what}`,
      xLabel: 'false alarms per hour (up to 20)',
      series: [{ name: 'false-reject rate, threshold 0.999 (left) down', points: shown.sort((a, b) => a[0] - b[0]) }],
    });
    if (png) {
      writeFileAtomic(det, png);
      ctx.print(`  DET curve: ${det}`);
    }
  }
  return {
    data: what, clips: pos.clips.length, activates: words, activatesCutShort: at.cutShort, negativeHours: +hours.toFixed(3), threshold: at.threshold,
    recall: 1 - at.frr, frr: at.frr, faPerHour: at.faPerHour, falseAlarmsInPositives: at.falseAlarmsInPositives,
    frrAt1FaPerHour: at1.frr, thresholdAt1FaPerHour: at1.threshold, frrAtHalfFaPerHour: atHalf.frr, thresholdAtHalfFaPerHour: atHalf.threshold,
    ...(frames ? { frameAccuracy: frames.accuracy, zerosAccuracy: frames.zerosAccuracy, frameF1: frames.f1 } : {}),
    falseAlarmWords: Object.fromEntries(falseAlarmWords(neg, at.threshold, refractory)),
    sweep: points.map((p) => ({ threshold: p.threshold, frr: +p.frr.toFixed(4), faPerHour: +p.faPerHour.toFixed(3) })),
    ...extra,
  };
}

/** A folder of WAVs with labels.json { "file.wav": [end time of each activate, s] }; files with [] are negative-only. */
async function evaluateFolder(dir: string, refractory: number, det: string | undefined, ctx: RunContext, options: Options) {
  const labelsFile = path.join(dir, 'labels.json');
  let labels: Record<string, unknown>;
  try {
    labels = JSON.parse(fs.readFileSync(labelsFile, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new SeqlabError(`${labelsFile} is not valid JSON: ${err.message}`);
    throw fileError('read', labelsFile, err);
  }
  const entries = Object.entries(labels ?? {});
  if (!entries.length || typeof labels !== 'object' || Array.isArray(labels)) throw new SeqlabError(`${labelsFile} should map each WAV file to the end times of its activates, e.g. { "clip.wav": [2.4, 7.1] }`);
  for (const [name, ends] of entries) {
    if (!Array.isArray(ends) || ends.some((e) => typeof e !== 'number' || !Number.isFinite(e) || e < 0)) throw new SeqlabError(`${labelsFile}: "${name}" should be a list of times in seconds, e.g. [2.4, 7.1]`);
  }
  const files = entries.map(([name]) => openAudio(path.join(dir, name)));
  files.forEach((r) => r.close());
  const { parts, ensemble, threshold } = await loadTrained(ctx, options);
  const pos: Scored = { clips: [] };
  const neg: Scored = { clips: [] };
  ctx.reporter.startPhase('scoring', entries.length);
  for (const [k, [name, ends]] of entries.entries()) {
    const reader = openAudio(path.join(dir, name));
    try {
      const track = await scoreFile(parts, reader, 1);
      ((ends as number[]).length ? pos : neg).clips.push({ track, ends: ends as number[], seconds: reader.info.seconds });
    } finally {
      reader.close();
    }
    ctx.reporter.batch(k + 1, {});
  }
  ctx.reporter.abort();
  // the clips with activates count their false alarms too: here all audio is real, none is spare
  const allNeg: Scored = { clips: [...neg.clips, ...pos.clips.map((c) => ({ ...c, track: withoutNear(c.track, c.ends), ends: [] }))] };
  return report(`${dir}`, pos, allNeg, undefined, threshold, refractory, det, ctx, ensemble);
}

/** The track with the answers near a labelled activate (its hit window) set to 0, to count false alarms elsewhere. */
function withoutNear(track: Track, ends: readonly number[]): Track {
  const probs = Float32Array.from(track.probs);
  track.times.forEach((t, j) => {
    if (ends.some((e) => t >= e - 1.5 && t <= e + 1.5)) probs[j] = 0;
  });
  return { probs, times: track.times };
}

// ---------------------------------------------------------------- sample

async function sample(_args: string[], options: Options, ctx: RunContext) {
  const out = path.resolve(options.out as string);
  if (!/\.wav$/i.test(out)) throw new UsageError(`--out ${out}: give a .wav file name`);
  const base = out.replace(/\.wav$/i, '');
  for (const f of [out, `${base}.json`, `${base}.png`]) checkWritableFile(f);
  // the training pool when it has been made; otherwise a small one of its own (4 voices, seconds to make)
  const size = fs.existsSync(poolFile(ctx.seed, DEFAULT_POOL)) ? DEFAULT_POOL : { ...DEFAULT_POOL, voices: 4 };
  const pools = await speechPools(ctx.seed, size, ctx.reporter);
  const example = makeExample(pools.train, { ...TRAINING_RECIPE, activates: [1, 4] }, new Rng(deriveSeed(ctx.seed, 'sample')));
  const fe = frontEnd('default');
  const f = await fe.features(example.audio);
  const steps = fe.outputSteps(f.frames);
  const y = labelTrack(fe, example.activates.map((w) => w.end), steps);
  const round = (s: Segment) => ({ start: +s.start.toFixed(3), end: +s.end.toFixed(3), ...(s.text ? { text: s.text } : {}) });
  const labels = {
    seconds: EXAMPLE_SECONDS,
    sampleRate: SAMPLE_RATE,
    activates: example.activates.map(round),
    negatives: example.negatives.map(round),
    label: { secondsPerStep: fe.outputTime(1) - fe.outputTime(0), firstStepAt: +fe.outputTime(0).toFixed(4), values: Array.from(y) },
  };
  writeFileAtomic(out, encodeWav16(example.audio, SAMPLE_RATE));
  writeFileAtomic(`${base}.json`, JSON.stringify(labels, null, 1) + '\n');
  const png = trackPng({
    title: `${path.basename(out)}: a training example and its labels (red: where each activate ends)`,
    seconds: EXAMPLE_SECONDS,
    image: { data: f.data, frames: f.frames, bands: fe.bands },
    tracks: [{ name: 'label (1 = "activate" just ended)', times: Float32Array.from({ length: steps }, (_, j) => fe.outputTime(j)), values: y }],
    markers: example.activates.map((w) => w.end),
  });
  if (png) writeFileAtomic(`${base}.png`, png);
  ctx.print(`${out}: ${EXAMPLE_SECONDS} s, ${example.activates.length} activate${example.activates.length === 1 ? '' : 's'} ending at ${example.activates.map((w) => `${w.end.toFixed(2)} s`).join(', ')}; ${example.negatives.length} other word${example.negatives.length === 1 ? '' : 's'}`);
  ctx.print(`labels: ${base}.json` + (png ? `; picture: ${base}.png` : ''));
  return { out, labels: `${base}.json`, ...(png ? { plot: `${base}.png` } : {}), activates: labels.activates, negatives: labels.negatives };
}

// ---------------------------------------------------------------- the task

const DETECTION_OPTIONS = [
  { key: 'threshold', flags: '--threshold <p>', help: `fire when p(activate) exceeds this (default ${THRESHOLD}; ${JOINED_THRESHOLD} for a model with its embedding partner)`, type: 'number', min: 0, max: 1 },
  { key: 'refractoryMs', flags: '--refractory-ms <ms>', help: 'after firing, stay quiet this long', type: 'int', default: 550, min: 0 },
  { key: 'partner', flags: '--no-partner', help: 'each checkpoint\'s model alone, without its partner on the speech embedding (<checkpoint>/embedding)', type: 'boolean' },
  { key: 'ensemble', flags: '--ensemble <dirs>', help: 'more checkpoints (comma-separated, each with its partner; trained with other --seed values, or on other --features) whose answers are averaged with --checkpoint\'s (models on other features: their log-odds, on --checkpoint\'s time grid)', type: 'string' },
] as const;

const FOLDER_OPTIONS = [
  { key: 'activates', flags: '--activates <dir>', help: 'your recordings of "activate" (WAV files), used beside the synthesized ones', type: 'string' },
  { key: 'negatives', flags: '--negatives <dir>', help: 'your recordings of other words', type: 'string' },
  { key: 'backgrounds', flags: '--backgrounds <dir>', help: 'your background recordings (any length)', type: 'string' },
] as const;

export const trigger: Task = {
  name: 'trigger',
  summary: '"activate" detection: synthesized speech → PCEN mel features → Conv1D + GRU, beside a model on a speech embedding; detect in any WAV, chime',
  examples: [
    'seqlab train trigger',
    'seqlab sample trigger --out example.wav',
    'seqlab detect trigger example.wav',
    'seqlab eval trigger',
    'seqlab eval trigger --data my-clips/   (WAVs + labels.json)',
    'seqlab eval trigger --activates raw_data/activates --negatives raw_data/negatives --backgrounds raw_data/backgrounds',
    'seqlab train trigger --activates raw_data/activates --negatives raw_data/negatives --backgrounds raw_data/backgrounds',
  ],
  train: {
    help: 'synthesize the word pool (once, cached) and 10 s examples, then train on random crops of them',
    options: [
      { key: 'model', flags: '--model <m>', help: 'default (mel features, trains here) or course (the course\'s model; needs tfjs-node to train)', type: ['default', 'course'], default: 'default' },
      { key: 'examples', flags: '--examples <n>', help: '10 s training examples to synthesize (default 2000; 400 for --model course)', type: 'int', min: 8 },
      { key: 'epochs', flags: '--epochs <n>', help: `epochs, each one crop per example (default ${DEFAULT_EPOCHS})`, type: 'int', min: 1 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'crops per step', type: 'int', default: 32, min: 1 },
      { key: 'cropSeconds', flags: '--crop-seconds <s>', help: 'length of the training crops', type: 'number', default: 3, min: 1, max: 10 },
      { key: 'lr', flags: '--lr <x>', help: 'Adam learning rate (cosine decay to a tenth)', type: 'number', default: 0.002, min: 1e-9 },
      { key: 'features', flags: '--features <f>', help: 'the default model\'s features: pcen (mel energies through per-channel energy normalization: a room\'s loudness and steady noise divide out), log-mel (their log, as models before PCEN) or embedding (Google\'s speech embedding, trained on real speech, via ONNX Runtime: hears real voices better, near-misses worse; its own defaults: 1,200 examples, 15 epochs, no renewal or mining)', type: FEATURE_KINDS, default: DEFAULT_FEATURES },
      { key: 'labelDelay', flags: '--label-delay <s>', help: `the labels start this long after each activate ends, so the model hears what follows the word before it answers (activ-ation, activ-ity; default 0 as the course's; ${EMBEDDING_LABEL_DELAY} for --features embedding; the partner keeps its own ${EMBEDDING_LABEL_DELAY} whatever this says)`, type: 'number', default: 0, min: 0, max: 1 },
      { key: 'highPass', flags: '--high-pass <hz>', help: 'the mel model hears its audio high-passed at this frequency, in training, eval and detect alike (for rooms with rumble under the words, which synthetic words never have; 0: none; 50 Hz measured in the README: no gain on the course\'s recordings)', type: 'number', default: 0, min: 0, max: 400 },
      { key: 'lowestSnr', flags: '--lowest-snr <db>', help: 'four-fifths of the training examples mix speech from this SNR to 20 dB (the rest 20-40 dB; eval\'s clips from 0): -5 trains for louder rooms (README: more of the course\'s real activates found, more held-out misses and false alarms); the partner keeps 0', type: 'number', default: 0, min: -20, max: 19 },
      { key: 'units', flags: '--units <n>', help: 'units of each of the default model\'s two GRUs (192: about twice the time per epoch, no gain beyond the spread between trainings: README)', type: 'int', default: DEFAULT_MODEL.units, min: 1 },
      { key: 'hardNegatives', flags: '--hard-negatives <share>', help: 'from a third of the way in, this share of the crops comes from new negative examples the model fires on most (0: no mining)', type: 'number', default: 0.2, min: 0, max: 0.9 },
      { key: 'warp', flags: '--warp <share>', help: 'half the training crops have their mel bands stretched or squeezed by up to this share (another vocal tract length; 0: none)', type: 'number', default: 0.1, min: 0, max: 0.3 },
      { key: 'renewEvery', flags: '--renew-every <epochs>', help: 'a new set of training examples every this many epochs, made in a worker thread while training goes on (0: one set throughout)', type: 'int', default: 5, min: 0 },
      { key: 'freqMask', flags: '--freq-mask <bands>', help: 'half the training crops lose up to this many mel bands (0: none)', type: 'int', default: 6, min: 0, max: 20 },
      { key: 'voices', flags: '--voices <n>', help: 'voices in the training pool (a fifth as many eSpeak NG voices more are held out)', type: 'int', default: DEFAULT_POOL.voices, min: 4 },
      { key: 'flite', flags: '--flite <voices>', help: `Flite voices a quarter of the training voices are drawn from: all, none (eSpeak NG alone), or some of ${FLITE_VOICES.join(',')}`, type: 'string', default: 'all' },
      { key: 'partner', flags: '--no-partner', help: 'the default model alone: without its partner on the speech embedding, trained after it into <checkpoint>/embedding (~2 min; detect and eval use both)', type: 'boolean' },
      ...FOLDER_OPTIONS,
    ],
    resumable: true,
    run: train,
  },
  eval: {
    help: 'frame accuracy and F1, and false rejects at 1 and 0.5 false alarms per hour, on voices never trained on (or your recordings: --activates DIR, or --data DIR)',
    options: [
      { key: 'data', flags: '--data <dir>', help: 'a folder of WAV files with labels.json {"clip.wav": [end of each activate, s]}', type: 'string' },
      { key: 'clips', flags: '--clips <n>', help: 'synthetic 10 s clips with activates', type: 'int', default: 200, min: 1 },
      { key: 'hours', flags: '--hours <h>', help: 'hours of synthetic audio without the word, for false alarms', type: 'number', default: 1, min: 0.01 },
      { key: 'heldOutSets', flags: '--held-out-sets <n>', help: 'measure on this many draws of held-out voices (this model\'s seed\'s, then the next seeds\'; no seed trains on any), pooled, each with --clips and --hours of its own: one draw\'s figure at ≤ 1 false alarm per hour moves a few points with the voices drawn', type: 'int', default: 1, min: 1, max: 10 },
      { key: 'activates', flags: '--activates <dir>', help: 'your recordings of "activate" (WAV files): eval mixes them into its clips instead of the held-out voices\' (real voices, measured as synthetic ones are)', type: 'string' },
      { key: 'negatives', flags: '--negatives <dir>', help: 'your recordings of other words, instead of the held-out voices\'', type: 'string' },
      { key: 'backgrounds', flags: '--backgrounds <dir>', help: 'your background recordings, behind ~60% of the clips', type: 'string' },
      { key: 'flite', flags: '--flite <voice>', help: 'clips spoken by this Flite voice instead of the held-out eSpeak NG voices: another synthesizer (a speaker never heard when training left it out: train --flite rms,awb,kal16,kal then eval --flite slt)', type: FLITE_VOICES },
      { key: 'plot', flags: '--plot <file.png>', help: 'where the DET curve goes (default trigger-det.png)', type: 'string' },
      { key: 'plot', flags: '--no-plot', help: 'no DET picture', type: 'boolean' },
      ...DETECTION_OPTIONS,
    ],
    run: evaluate,
  },
  detect: {
    help: 'the moments "activate" is said in WAV files (any PCM/float WAV, any length): times, a chimed copy, a picture',
    args: { name: '<files.wav...>', help: 'WAV files' },
    options: [
      ...DETECTION_OPTIONS,
      { key: 'out', flags: '--out <file.wav>', help: 'the chimed copy (default <name>-chimed.wav here)', type: 'string' },
      { key: 'plot', flags: '--plot <file.png>', help: 'the picture (default <name>-detections.png here)', type: 'string' },
      { key: 'audio', flags: '--no-audio', help: 'no chimed copy', type: 'boolean' },
      { key: 'plot', flags: '--no-plot', help: 'no picture', type: 'boolean' },
    ],
    run: detectCommand,
  },
  sample: {
    help: 'one synthesized 10 s training example: the WAV, its labels (JSON) and a picture of both',
    options: [{ key: 'out', flags: '--out <file.wav>', help: 'where the example goes (with .json and .png beside it)', type: 'string', default: 'trigger-example.wav' }],
    usesCheckpoint: false,
    run: sample,
  },
  status: () => {
    const file = poolFile(1, DEFAULT_POOL);
    return { 'word pool (seed 1)': fs.existsSync(file) ? `synthesized, cached in ${file}` : 'not synthesized yet (the first `train trigger` does it, ~30 s, with eSpeak NG and Flite)' };
  },
};
