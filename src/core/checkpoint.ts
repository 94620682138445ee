/**
 * The one checkpoint format: a folder holding the tfjs Layers model (model.json + weights.bin,
 * optimizer state included so training resumes exactly) and seqlab.json (task, vocabularies,
 * hyperparameters, epoch, seed, metric history). Written to a temporary folder and renamed into
 * place, so a crash or Ctrl-C never leaves a half-written checkpoint.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { SeqlabError, messageOf } from './errors';

export const CHECKPOINT_FORMAT = 'seqlab-checkpoint/1';

export interface EpochRecord {
  epoch: number;
  seconds: number;
  [metric: string]: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  task: string;
  /** completed epochs */
  epoch: number;
  seed: number;
  hyperparameters: Record<string, unknown>;
  vocabularies: Record<string, readonly string[]>;
  history: EpochRecord[];
  /** total training wall time so far, seconds */
  trainSeconds: number;
  /** set when training was interrupted part-way through an epoch */
  interrupted?: { epoch: number; batch: number };
  savedAt: string;
  backend: string;
}

/** Default place of a task's checkpoint: datasets/<task>/checkpoint under the working directory. */
export function defaultCheckpointDir(task: string): string {
  return path.resolve('datasets', task, 'checkpoint');
}

function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a task says about its checkpoint; the format tag and the time are filled in when it is saved. */
export type CheckpointContent = Omit<CheckpointMeta, 'format' | 'savedAt'>;

/** Saves model and metadata atomically into `dir` (replacing what was there). */
export async function saveCheckpoint(dir: string, model: tf.LayersModel, content: CheckpointContent): Promise<void> {
  const meta: CheckpointMeta = { format: CHECKPOINT_FORMAT, ...content, savedAt: new Date().toISOString() };
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs! }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
      };
      writeFileSynced(path.join(tmp, 'weights.bin'), weights);
      writeFileSynced(path.join(tmp, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
    { includeOptimizer: model.optimizer != null },
  );
  writeFileSynced(path.join(tmp, 'seqlab.json'), JSON.stringify(meta, null, 1));
  const hadTarget = fs.existsSync(target);
  if (hadTarget) fs.renameSync(target, old);
  fs.renameSync(tmp, target);
  if (hadTarget) fs.rmSync(old, { recursive: true, force: true });
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new SeqlabError(`checkpoint is incomplete: ${what} is missing (${file})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SeqlabError(`checkpoint is corrupt: ${what} is not valid JSON (${file})`);
  }
}

/** Reads only the metadata (cheap): for status and resume decisions. */
export function readCheckpointMeta(dir: string, task: string): CheckpointMeta {
  const target = path.resolve(dir);
  if (!fs.existsSync(target)) {
    throw new SeqlabError(`no checkpoint at ${target}: train one first with 'seqlab train ${task}'`);
  }
  const meta = readJson(path.join(target, 'seqlab.json'), 'seqlab.json') as CheckpointMeta;
  if (meta?.format !== CHECKPOINT_FORMAT) {
    throw new SeqlabError(`checkpoint is corrupt: ${path.join(target, 'seqlab.json')} is not a seqlab checkpoint`);
  }
  if (meta.task !== task) {
    throw new SeqlabError(`checkpoint at ${target} is for task '${meta.task}', not '${task}'`);
  }
  return meta;
}

/** Loads model (compiled, with optimizer state when saved) and metadata; clear errors for any damage. */
export async function loadCheckpoint(dir: string, task: string): Promise<{ model: tf.LayersModel; meta: CheckpointMeta }> {
  const meta = readCheckpointMeta(dir, task);
  const target = path.resolve(dir);
  const modelJson = readJson(path.join(target, 'model.json'), 'model.json') as tf.io.ModelJSON;
  const weightsFile = path.join(target, 'weights.bin');
  if (!fs.existsSync(weightsFile)) throw new SeqlabError(`checkpoint is incomplete: weights.bin is missing (${weightsFile})`);
  const weightData = fs.readFileSync(weightsFile);
  const specs = modelJson.weightsManifest?.flatMap((g) => g.weights) ?? [];
  const expected = specs.reduce((n, s) => n + s.shape.reduce((p, d) => p * d, 1) * 4, 0);
  if (!modelJson.modelTopology || expected !== weightData.byteLength) {
    throw new SeqlabError(
      `checkpoint is corrupt: weights.bin has ${weightData.byteLength} bytes, model.json describes ${expected} (${target})`,
    );
  }
  try {
    const buffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData: buffer,
        trainingConfig: modelJson.trainingConfig,
      }),
    );
    return { model, meta };
  } catch (err) {
    throw new SeqlabError(`checkpoint is corrupt: the model in ${target} could not be rebuilt (${messageOf(err).split('\n')[0]})`);
  }
}
