/**
 * The one training loop for tfjs tasks: epochs of batches with model.trainOnBatch, a learning-rate
 * schedule, validation after each epoch, a checkpoint after each epoch and on Ctrl-C, a stop
 * with a clear error (keeping the last good checkpoint) when the loss is not finite, and optionally
 * the mean of the weights of the last epochs as the final model.
 */
import * as tf from '@tensorflow/tfjs';
import { NonFiniteLossError } from './errors';
import { CheckpointMeta, defaultCheckpointDir, EpochRecord, loadCheckpoint } from './checkpoint';
import { SeqlabError } from './errors';
import { Metrics, Reporter } from './progress';

export interface Batch {
  xs: tf.Tensor | tf.Tensor[];
  ys: tf.Tensor | tf.Tensor[];
}

export interface TrainLoopOptions {
  /** a compiled model */
  model: tf.LayersModel;
  /** train until this many epochs are complete */
  epochs: number;
  /** epochs already complete (when resuming) */
  initialEpoch?: number;
  batchesPerEpoch: number;
  /** makes batch `index` of `epoch` (1-based epoch); the loop disposes its tensors */
  batch(epoch: number, index: number): Batch;
  /** learning rate for an epoch (1-based); unset: the optimizer's own */
  learningRate?(epoch: number): number;
  /** held-out metrics after an epoch */
  validate?(epoch: number): Promise<Metrics> | Metrics;
  /** writes a checkpoint; `interrupted` is set when called part-way through an epoch */
  save(epoch: number, history: EpochRecord[], interrupted?: { epoch: number; batch: number }): Promise<void>;
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

/**
 * For `--resume`: the checkpoint's model (compiled, optimizer state included) and metadata, after
 * `check` has accepted it; says where training continues, or that there is nothing left to do.
 */
export async function resumeFrom(
  dir: string,
  task: string,
  epochs: number,
  reporter: Reporter,
  check: (meta: CheckpointMeta) => void = () => {},
): Promise<{ model: tf.LayersModel; meta: CheckpointMeta }> {
  const loaded = await loadCheckpoint(dir, task);
  check(loaded.meta);
  reporter.info(`resuming from ${dir} at epoch ${loaded.meta.epoch}`);
  if (loaded.meta.epoch >= epochs) reporter.info(`the checkpoint has ${loaded.meta.epoch} epochs already; nothing to do (raise --epochs)`);
  return loaded;
}

/**
 * After Ctrl-C: says where the resumable checkpoint is and how to continue, and returns the error
 * (exit 130) the command ends with. `command` is the train command without --checkpoint.
 */
export function interruption(result: TrainLoopResult, dir: string, task: string, command: string, print: (line: string) => void): SeqlabError {
  const where = dir === defaultCheckpointDir(task) ? '' : ` --checkpoint ${dir}`;
  print(`interrupted after ${result.epoch} complete epochs; checkpoint saved to ${dir}`);
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

export async function trainLoop(opts: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, reporter } = opts;
  const history = [...(opts.history ?? [])];
  const names = model.metricsNames; // ['loss', ...metrics]
  let interrupted = false;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // a second Ctrl-C: leave at once
    interrupted = true;
    reporter.abort();
    reporter.info('\ninterrupt: finishing this batch and saving a resumable checkpoint (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);
  const start = performance.now();
  let epoch = opts.initialEpoch ?? 0;
  const average = new WeightAverage();
  try {
    while (epoch < opts.epochs) {
      const current = epoch + 1;
      if (opts.learningRate) setLearningRate(model, opts.learningRate(current));
      reporter.startEpoch(current, opts.epochs, opts.batchesPerEpoch);
      const epochStart = performance.now();
      const sums = new Array<number>(names.length).fill(0);
      for (let i = 0; i < opts.batchesPerEpoch; i++) {
        const { xs, ys } = opts.batch(current, i);
        let values: number[];
        try {
          const out = await model.trainOnBatch(xs, ys);
          values = Array.isArray(out) ? out : [out];
        } finally {
          tf.dispose([xs, ys] as tf.TensorContainer);
        }
        if (!Number.isFinite(values[0])) {
          reporter.abort();
          throw new NonFiniteLossError(current, i + 1);
        }
        values.forEach((v, k) => (sums[k] += v));
        const running: Metrics = {};
        names.forEach((n, k) => (running[n] = sums[k] / (i + 1)));
        reporter.batch(i + 1, running);
        // wasm work is synchronous and awaits only resolved promises: give the event loop a turn so
        // a Ctrl-C (SIGINT) can be delivered between batches
        await new Promise((resolve) => setImmediate(resolve));
        if (interrupted) {
          await opts.save(epoch, history, { epoch: current, batch: i + 1 });
          return { history, status: 'interrupted', epoch, seconds: (performance.now() - start) / 1000 };
        }
      }
      const record: EpochRecord = { epoch: current, seconds: 0 };
      names.forEach((n, k) => (record[n] = sums[k] / opts.batchesPerEpoch));
      if (opts.validate) Object.assign(record, await opts.validate(current));
      record.seconds = +((performance.now() - epochStart) / 1000).toFixed(2);
      history.push(record);
      epoch = current;
      const { epoch: _e, seconds: _s, ...metrics } = record;
      reporter.endEpoch(current, metrics);
      if (opts.averageLast && current > opts.epochs - opts.averageLast) average.add(model);
      if (average.count > 1 && current === opts.epochs) break; // saved below, averaged
      await opts.save(epoch, history);
      if (interrupted) return { history, status: 'interrupted', epoch, seconds: (performance.now() - start) / 1000 };
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
    return { history, status: 'done', epoch, seconds: (performance.now() - start) / 1000, averaged };
  } finally {
    average.dispose();
    process.off('SIGINT', onSigint);
  }
}
