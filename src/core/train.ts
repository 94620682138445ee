/**
 * The one training loop for tfjs tasks: epochs of batches (trainStep: model.trainOnBatch without
 * waiting for its loss), a learning-rate schedule, validation after each epoch, a checkpoint after
 * each epoch and on Ctrl-C, a stop with a clear error (keeping the last good checkpoint) when the
 * loss is not finite, and optionally the mean of the weights of the last epochs as the final model.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  CheckpointContent, CheckpointMeta, defaultCheckpointDir, EpochRecord, Interrupted, loadCheckpoint, prepareCheckpointDir, saveCheckpoint,
} from './checkpoint';
import { NonFiniteLossError, SeqlabError } from './errors';
import { Metrics, Reporter } from './progress';
import { Options, RunContext } from './task';

export interface Batch {
  xs: tf.Tensor | tf.Tensor[];
  ys: tf.Tensor | tf.Tensor[];
}

export interface TrainLoopOptions {
  /** a compiled model */
  model: tf.LayersModel;
  /** train until this many epochs are complete */
  epochs: number;
  /** the checkpoint a run resumes from: its epochs, history and mid-epoch position carry on */
  resumed?: CheckpointMeta;
  /** epochs already complete (when resuming; default: the resumed checkpoint's) */
  initialEpoch?: number;
  /** resume part-way through an epoch: the checkpoint's record of where Ctrl-C stopped it */
  resumeAt?: Interrupted;
  batchesPerEpoch: number;
  /**
   * makes batch `index` of `epoch` (1-based epoch); the loop disposes its tensors. It must depend
   * on (epoch, index) alone, so a run resumed part-way through an epoch sees the batches it had not yet trained.
   */
  batch(epoch: number, index: number): Batch;
  /**
   * runs before each epoch (1-based) starts, after a resume too: a task's work between epochs that
   * needs the model as trained so far (trigger mines the negatives it fires on), with its own progress
   */
  beforeEpoch?(epoch: number): Promise<void> | void;
  /** learning rate for an epoch (1-based); unset: the optimizer's own */
  learningRate?(epoch: number): number;
  /** held-out metrics after an epoch */
  validate?(epoch: number): Promise<Metrics> | Metrics;
  /** writes a checkpoint; `interrupted` is set when called part-way through an epoch */
  save(epoch: number, history: EpochRecord[], interrupted?: Interrupted): Promise<void>;
  reporter: Reporter;
  /** history of earlier epochs (resume) */
  history?: EpochRecord[];
  /**
   * The final model is the mean of the weights at the end of each of the last `averageLast`
   * epochs (stochastic weight averaging); 0 or unset: the last weights. After a resume, only the
   * epochs trained since count.
   */
  averageLast?: number;
}

export interface TrainLoopResult {
  history: EpochRecord[];
  /** 'done', or 'interrupted' after Ctrl-C (a resumable checkpoint was written) */
  status: 'done' | 'interrupted';
  /** epochs complete */
  epoch: number;
  seconds: number;
  /** held-out metrics of the averaged weights, when `averageLast` averaged more than one epoch */
  averaged?: Metrics;
  /** where Ctrl-C stopped it part-way through an epoch */
  interruptedAt?: Interrupted;
}

/** A running sum of a model's weights, to make their mean the model's weights. */
export class WeightAverage {
  private sums: tf.Tensor[] | undefined;
  count = 0;

  add(model: tf.LayersModel): void {
    const weights = model.getWeights();
    const before = this.sums;
    this.sums = tf.tidy(() => weights.map((w, i) => (before ? tf.add(before[i], w) : tf.clone(w))));
    tf.dispose(before);
    this.count++;
  }

  /** Sets the model's weights to the mean and frees the sums. */
  apply(model: tf.LayersModel): void {
    if (!this.sums) return;
    const mean = tf.tidy(() => this.sums!.map((s) => tf.div(s, this.count)));
    model.setWeights(mean);
    tf.dispose(mean);
    this.dispose();
  }

  dispose(): void {
    tf.dispose(this.sums ?? []);
    this.sums = undefined;
  }
}

/** Options that never travel with a checkpoint's settings. */
const RUN_OPTIONS = new Set(['epochs', 'iterations', 'resume', 'overwrite', 'checkpoint', 'backend', 'json', 'quiet']);

/**
 * The start of every train command: with --resume, the checkpoint's model (compiled, optimizer
 * state included) and metadata, after `check` has accepted it, saying which settings come from the
 * checkpoint and warning about each flag given that they override; without, a check that the
 * checkpoint folder can take a checkpoint (new, empty or seqlab's own, writable) before any work.
 */
export async function beginTraining(
  task: string,
  options: Options,
  ctx: RunContext,
  opts: { epochs?: number; check?: (meta: CheckpointMeta) => void; unit?: 'epoch' | 'iteration' } = {},
): Promise<{ model?: tf.LayersModel; meta?: CheckpointMeta }> {
  if (!options.resume) {
    const existing = prepareCheckpointDir(ctx.checkpointDir, task, { overwrite: options.overwrite as boolean | undefined });
    if (existing) ctx.reporter.info(`replacing the ${existing.task} checkpoint in ${ctx.checkpointDir} (${existing.epoch} epochs; --resume continues it instead)`);
    return {};
  }
  const loaded = await loadCheckpoint(ctx.checkpointDir, task);
  const { meta } = loaded;
  opts.check?.(meta);
  prepareCheckpointDir(ctx.checkpointDir, task);
  const at = meta.interrupted ? `epoch ${meta.interrupted.epoch}, batch ${meta.interrupted.batch + 1}` : `${opts.unit ?? 'epoch'} ${meta.epoch + 1}`;
  const settings = Object.entries(meta.hyperparameters).filter(([k, v]) => v !== null && typeof v !== 'object' && !RUN_OPTIONS.has(k));
  ctx.reporter.info(`resuming from ${ctx.checkpointDir} at ${at}, with the checkpoint's seed ${meta.seed} and settings: ${settings.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const key of ctx.explicit) {
    if (RUN_OPTIONS.has(key)) continue;
    const given = options[key];
    const saved = key === 'seed' ? meta.seed : meta.hyperparameters[key];
    const same = typeof saved === 'string' && typeof given === 'string' ? path.resolve(given) === path.resolve(saved) || given === saved : given === saved;
    if (!same) {
      const flag = '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
      ctx.reporter.warn(`${flag} ${given} is ignored: a resumed run keeps the checkpoint's ${saved === undefined ? 'settings' : `${key} ${saved}`} (train without --resume to change it)`);
    }
  }
  if (opts.epochs !== undefined && meta.epoch >= opts.epochs) ctx.reporter.info(`the checkpoint has ${meta.epoch} epochs already; nothing to do (raise --epochs)`);
  return loaded;
}

/**
 * The one way a train command writes its checkpoint: the run's fixed content (task, seed,
 * hyperparameters, vocabularies) plus, at each save, the epoch, the history and the training
 * time, counted one way for every task: the resumed checkpoint's time plus this run's wall time.
 */
export function checkpointSaver(
  ctx: RunContext,
  fixed: Pick<CheckpointContent, 'task' | 'seed' | 'hyperparameters' | 'vocabularies'>,
  resumed?: CheckpointMeta,
) {
  const start = performance.now();
  const trainSeconds = () => +((resumed?.trainSeconds ?? 0) + (performance.now() - start) / 1000).toFixed(1);
  return {
    trainSeconds,
    save: (model: tf.LayersModel, epoch: number, history: EpochRecord[], extra: Pick<CheckpointContent, 'interrupted' | 'state'> = {}) =>
      saveCheckpoint(ctx.checkpointDir, model, {
        ...fixed,
        epoch,
        history,
        trainSeconds: trainSeconds(),
        ...(extra.interrupted ? { interrupted: extra.interrupted } : {}),
        ...(extra.state ? { state: extra.state } : {}),
        backend: ctx.backend.name,
      }),
  };
}

/**
 * Ctrl-C while training: the first asks the loop to stop at its next safe point (it saves and
 * returns), a second leaves at once. Loops poll `requested` and give the event loop a turn now
 * and then (`yield`), or the signal is never delivered during synchronous work.
 */
export class InterruptGuard {
  requested = false;
  private count = 0;
  private readonly onSigint = () => {
    this.count++;
    if (this.count > 1) process.exit(130);
    this.requested = true;
    this.reporter.abort();
    this.reporter.info(`\ninterrupt: ${this.what} (Ctrl-C again to quit now)`);
  };

  constructor(private readonly reporter: Reporter, private readonly what = 'finishing this batch and saving a resumable checkpoint') {
    process.on('SIGINT', this.onSigint);
  }

  /** Lets a pending SIGINT be delivered; returns whether a stop was asked for. */
  async yield(): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    return this.requested;
  }

  dispose(): void {
    process.off('SIGINT', this.onSigint);
  }
}

/**
 * After Ctrl-C: says where the resumable checkpoint is and how to continue, and returns the error
 * (exit 130) the command ends with. `command` is the train command without --checkpoint;
 * `resumeDir` the checkpoint it resumes (a partner's is its main checkpoint).
 */
export function interruption(result: TrainLoopResult, dir: string, task: string, command: string, print: (line: string) => void, resumeDir = dir): SeqlabError {
  const where = resumeDir === defaultCheckpointDir(task) ? '' : ` --checkpoint ${resumeDir}`;
  const partial = result.interruptedAt ? ` and ${result.interruptedAt.batch} batches of epoch ${result.interruptedAt.epoch}` : '';
  print(`interrupted after ${result.epoch} complete epochs${partial}; checkpoint saved to ${dir}`);
  print(`resume with: ${command} --resume${where}`);
  return new SeqlabError('training interrupted (resumable checkpoint saved)', 130);
}

/**
 * Sets the learning rate of a model's optimizer. SGD (and momentum) cache it in a tensor and
 * have a setter; Adam, RMSProp and the others read the property at each step.
 */
export function setLearningRate(model: tf.LayersModel, lr: number): void {
  const opt = model.optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof opt.setLearningRate === 'function') opt.setLearningRate(lr);
  else opt.learningRate = lr;
}

/** Model internals trainOnBatch is made of (tfjs-layers 4.x), to train without reading the loss back. */
interface TrainInternals {
  standardizeUserData?(x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor[][]>;
  makeTrainFunction?(): (data: tf.Tensor[]) => tf.Scalar[];
}

/**
 * One training step, as model.trainOnBatch takes it, but returning the loss and metrics as tensors
 * instead of reading them: on a GPU backend each read waits for the GPU to finish and stalls the
 * host, which could be recording the next step meanwhile.
 */
export async function trainStep(model: tf.LayersModel, xs: tf.Tensor | tf.Tensor[], ys: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor[]> {
  // a Sequential model trains the functional model inside it
  const inner = model instanceof tf.Sequential ? (model as unknown as { model?: tf.LayersModel }).model : model;
  const m = inner as unknown as TrainInternals | undefined;
  if (!m?.standardizeUserData || !m.makeTrainFunction) {
    const out = await model.trainOnBatch(xs, ys);
    return (Array.isArray(out) ? out : [out]).map((v) => tf.scalar(v));
  }
  const [inputs, targets] = await m.standardizeUserData(xs, ys);
  try {
    return m.makeTrainFunction()(inputs.concat(targets));
  } finally {
    // standardizeUserData may make new tensors (a cast, a reshape): those only are ours to free
    const given = new Set([xs, ys].flat().map((t) => t.id));
    tf.dispose(inputs.concat(targets).filter((t) => !given.has(t.id)));
  }
}

/**
 * The loss and metrics of the steps trained, read back in order. On the CPU backends a step's values
 * are read as it ends. On webgpu they are read `group` steps at a time in one transfer, started
 * when the group is complete and awaited only when the next group is (so the GPU works while the
 * host records the next steps, and the host never waits for it unless it is the slower).
 */
export class StepValues {
  private group: { index: number; values: tf.Tensor[] }[] = [];
  private reads: { indices: number[]; width: number; data: Promise<ArrayLike<number>>; tensors: tf.Tensor[] }[] = [];

  constructor(private readonly size = tf.getBackend() === 'webgpu' ? 8 : 1) {}

  /** Takes (and frees) step `index`'s values; returns the steps whose values are now read, in order. */
  async add(index: number, values: tf.Tensor[]): Promise<{ index: number; values: number[] }[]> {
    this.group.push({ index, values });
    if (this.group.length < this.size) return [];
    this.startRead();
    return this.settle(this.reads.length - (this.size === 1 ? 0 : 1));
  }

  /** Every step's values not yet returned. */
  async drain(): Promise<{ index: number; values: number[] }[]> {
    if (this.group.length) this.startRead();
    return this.settle(this.reads.length);
  }

  dispose(): void {
    tf.dispose(this.group.flatMap((g) => g.values));
    for (const r of this.reads) r.data.catch(() => undefined); // a read left pending on an error
    tf.dispose(this.reads.flatMap((r) => r.tensors));
    this.group = [];
    this.reads = [];
  }

  private startRead(): void {
    const group = this.group;
    this.group = [];
    const flat = group.flatMap((g) => g.values);
    const read = { indices: group.map((g) => g.index), width: group[0].values.length };
    if (this.size === 1) {
      this.reads.push({ ...read, data: Promise.all(flat.map((t) => t.data())).then((all) => all.map((d) => d[0])), tensors: flat });
      return;
    }
    // one transfer for the group; data() records the copy and submits it now, awaiting it waits for the GPU
    const tensor = tf.tidy(() => tf.concat(flat.map((t) => t.reshape([1]))));
    tf.dispose(flat);
    this.reads.push({ ...read, data: tensor.data(), tensors: [tensor] });
  }

  private async settle(count: number): Promise<{ index: number; values: number[] }[]> {
    const rows: { index: number; values: number[] }[] = [];
    while (count-- > 0) {
      const read = this.reads[0];
      const data = Array.from(await read.data);
      this.reads.shift();
      tf.dispose(read.tensors);
      read.indices.forEach((index, k) => rows.push({ index, values: data.slice(k * read.width, (k + 1) * read.width) }));
    }
    return rows;
  }
}

export async function trainLoop(opts: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, reporter } = opts;
  const history = [...(opts.history ?? opts.resumed?.history ?? [])];
  const names = model.metricsNames; // ['loss', ...metrics]
  const guard = new InterruptGuard(reporter);
  const start = performance.now();
  let epoch = opts.initialEpoch ?? opts.resumed?.epoch ?? 0;
  const at = opts.resumeAt ?? opts.resumed?.interrupted;
  let resumeAt = at && at.epoch === epoch + 1 ? at : undefined;
  const average = new WeightAverage();
  const done = (status: TrainLoopResult['status'], interruptedAt?: Interrupted): TrainLoopResult => ({
    history, status, epoch, seconds: (performance.now() - start) / 1000, ...(interruptedAt ? { interruptedAt } : {}),
  });
  try {
    while (epoch < opts.epochs) {
      const current = epoch + 1;
      await opts.beforeEpoch?.(current);
      if (opts.learningRate) setLearningRate(model, opts.learningRate(current));
      reporter.startEpoch(current, opts.epochs, opts.batchesPerEpoch);
      const first = resumeAt?.batch ?? 0;
      const earlier = resumeAt?.seconds ?? 0;
      const epochStart = performance.now();
      const sums = resumeAt?.sums?.length === names.length ? [...resumeAt.sums] : new Array<number>(names.length).fill(0);
      resumeAt = undefined;
      const take = (rows: { index: number; values: number[] }[]) => {
        for (const { index, values } of rows) {
          if (!Number.isFinite(values[0])) {
            reporter.abort();
            throw new NonFiniteLossError(`epoch ${current}, batch ${index + 1}`);
          }
          values.forEach((v, k) => (sums[k] += v));
          const running: Metrics = {};
          names.forEach((n, k) => (running[n] = sums[k] / (index + 1)));
          reporter.batch(index + 1, running);
        }
      };
      const steps = new StepValues();
      try {
        for (let i = first; i < opts.batchesPerEpoch; i++) {
          const { xs, ys } = opts.batch(current, i);
          let values: tf.Tensor[];
          try {
            values = await trainStep(model, xs, ys);
          } finally {
            tf.dispose([xs, ys] as tf.TensorContainer);
          }
          take(await steps.add(i, values));
          // wasm work is synchronous and awaits only resolved promises: give the event loop a turn so
          // a Ctrl-C (SIGINT) can be delivered between batches
          if ((await guard.yield()) && i + 1 < opts.batchesPerEpoch) {
            take(await steps.drain());
            const at: Interrupted = { epoch: current, batch: i + 1, sums, seconds: +(earlier + (performance.now() - epochStart) / 1000).toFixed(2) };
            await opts.save(epoch, history, at);
            return done('interrupted', at);
          }
        }
        take(await steps.drain());
      } finally {
        steps.dispose();
      }
      const record: EpochRecord = { epoch: current, seconds: 0 };
      names.forEach((n, k) => (record[n] = sums[k] / opts.batchesPerEpoch));
      if (opts.validate) Object.assign(record, await opts.validate(current));
      record.seconds = +(earlier + (performance.now() - epochStart) / 1000).toFixed(2);
      history.push(record);
      epoch = current;
      const { epoch: _e, seconds: _s, ...metrics } = record;
      reporter.endEpoch(current, metrics);
      if (opts.averageLast && current > opts.epochs - opts.averageLast) average.add(model);
      if (average.count > 1 && current === opts.epochs) break; // saved below, averaged
      await opts.save(epoch, history);
      if (guard.requested) return done('interrupted');
    }
    let averaged: Metrics | undefined;
    if (average.count > 1) {
      const from = epoch - average.count + 1;
      average.apply(model);
      averaged = opts.validate ? await opts.validate(epoch) : {};
      const shown = Object.entries(averaged).map(([k, v]) => `  ${k} ${v.toFixed(4)}`).join('');
      reporter.info(`final weights: the mean of epochs ${from}-${epoch}${shown}`);
      await opts.save(epoch, history);
    }
    return { ...done('done'), averaged };
  } finally {
    average.dispose();
    guard.dispose();
  }
}
