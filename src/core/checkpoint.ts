/**
 * The one checkpoint format: a folder holding seqlab.json (task, vocabularies, hyperparameters,
 * epoch, seed, metric history, and which files hold the model with their SHA-256) and the tfjs
 * Layers model it names (model-N.json + weights-N.bin, optimizer state included so training
 * resumes exactly).
 *
 * Saving never removes anything but seqlab's own files: the new model files are written under a
 * new generation number N beside the old ones, then seqlab.json is replaced by one atomic rename
 * (the commit), then the old generation is removed. A reader always finds the old checkpoint or
 * the new one, whatever moment a crash, a full disk or a kill hits. A folder that holds anything
 * else is refused before training starts (prepareCheckpointDir), except sub-folders that are themselves
 * checkpoints of the same task: a task's partner models, trained and used with it (trigger's model on
 * the speech embedding, in <checkpoint>/embedding).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { SeqlabError, messageOf } from './errors';
import { checkWritableDir, fileError, fsReason, makeDirs, writeFileAtomic, writeFileSynced } from './files';
// seqlab's Adam, registered under tfjs' name, so a checkpoint's optimizer loads into it
import './optimizer';

export const CHECKPOINT_FORMAT = 'seqlab-checkpoint/1';

export interface EpochRecord {
  epoch: number;
  seconds: number;
  [metric: string]: number;
}

/** Where training stopped part-way through an epoch (Ctrl-C), so a resume continues at the next batch. */
export interface Interrupted {
  epoch: number;
  /** batches of `epoch` already trained */
  batch: number;
  /** running sums of the loss and metrics over those batches */
  sums?: number[];
  /** seconds spent on those batches */
  seconds?: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  task: string;
  /** completed epochs (for a task without epochs: its unit of progress, e.g. iterations) */
  epoch: number;
  seed: number;
  hyperparameters: Record<string, unknown>;
  vocabularies: Record<string, readonly string[]>;
  history: EpochRecord[];
  /** total training wall time so far, seconds */
  trainSeconds: number;
  /** set when training was interrupted part-way through an epoch */
  interrupted?: Interrupted;
  /** task-specific training state a resume needs besides the weights */
  state?: Record<string, unknown>;
  savedAt: string;
  backend: string;
  /** the files of this checkpoint's model and their SHA-256 (absent in checkpoints before checksums) */
  files?: { model: string; weights: string; weightsSha256: string; generation: number };
}

/** Default place of a task's checkpoint: datasets/<task>/checkpoint under the working directory. */
export function defaultCheckpointDir(task: string): string {
  return path.resolve('datasets', task, 'checkpoint');
}

/** What a task says about its checkpoint; the format tag, time and files are filled in when it is saved. */
export type CheckpointContent = Omit<CheckpointMeta, 'format' | 'savedAt' | 'files'>;

const META = 'seqlab.json';
/** seqlab's own files in a checkpoint folder: the only ones it writes, replaces or removes. */
const OWN_FILE = /^(seqlab\.json|model(-\d+)?\.json|weights(-\d+)?\.bin|loss\.png|\..*\.tmp-\d+|\.seqlab-probe-\d+)$/;
/** partner sub-folders' names */
const PARTNER = /^[a-z][a-z0-9-]{0,31}$/;
const DEBRIS = /^(\..*\.tmp-\d+|\.seqlab-probe-\d+)$/;

const sha256 = (data: Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The metadata in a folder, or undefined when there is none or it is not a seqlab checkpoint. */
function peekMeta(dir: string): CheckpointMeta | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, META), 'utf8')) as CheckpointMeta;
    return meta?.format === CHECKPOINT_FORMAT && typeof meta.task === 'string' ? meta : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Before training: the checkpoint folder is new, empty, or a seqlab checkpoint of this task
 * (another task's only with `overwrite`), holds nothing else, and is writable. Creates it.
 * Returns the checkpoint that is there, if any.
 */
export function prepareCheckpointDir(dir: string, task: string, opts: { overwrite?: boolean } = {}): CheckpointMeta | undefined {
  const target = path.resolve(dir);
  let entries: string[] = [];
  try {
    const st = fs.statSync(target);
    if (!st.isDirectory()) throw new SeqlabError(`cannot use ${target} as a checkpoint folder: it is a file (give --checkpoint a folder)`);
    entries = fs.readdirSync(target);
  } catch (err) {
    if (err instanceof SeqlabError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError('use checkpoint folder', target, err);
  }
  const existing = entries.includes(META) ? peekMeta(target) : undefined;
  const foreign = entries.filter((e) => (existing ? !OWN_FILE.test(e) && !isPartnerDir(path.join(target, e), existing.task) : !DEBRIS.test(e)));
  if (foreign.length) {
    const shown = foreign.slice(0, 3).map((e) => (isDir(path.join(target, e)) ? `${e}/` : e)).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
    throw new SeqlabError(
      `${target} holds files that are not a seqlab checkpoint (${shown}); seqlab writes checkpoints only into a new or empty folder or over its own checkpoint: choose another --checkpoint`,
    );
  }
  if (existing && existing.task !== task && !opts.overwrite) {
    throw new SeqlabError(`${target} holds a checkpoint of task '${existing.task}': give --overwrite to replace it with ${task}, or choose another --checkpoint`);
  }
  checkWritableDir(target, 'checkpoint folder');
  return existing;
}

/** A sub-folder of a checkpoint that holds a partner checkpoint of `task` (or only the debris of one being started). */
function isPartnerDir(dir: string, task: string): boolean {
  if (!PARTNER.test(path.basename(dir)) || !isDir(dir)) return false;
  const entries = fs.readdirSync(dir);
  return entries.includes(META) ? peekMeta(dir)?.task === task && entries.every((e) => OWN_FILE.test(e)) : entries.every((e) => DEBRIS.test(e));
}

/** Where a checkpoint keeps its partner model `name` (a sub-folder the checkpoint code owns). */
export function partnerDir(dir: string, name: string): string {
  if (!PARTNER.test(name)) throw new Error(`bad partner name ${name}`);
  return path.join(path.resolve(dir), name);
}

/**
 * Removes a checkpoint's partner (seqlab's own files only; a folder holding anything else is
 * left as it is and reported): a new training replaces the checkpoint and its partners.
 */
export function removePartner(dir: string, name: string): boolean {
  const sub = partnerDir(dir, name);
  if (!fs.existsSync(sub)) return false;
  const entries = fs.readdirSync(sub);
  if (!entries.every((e) => OWN_FILE.test(e))) throw new SeqlabError(`${sub} holds files that are not a seqlab checkpoint; move them, then train again`);
  for (const e of entries) fs.rmSync(path.join(sub, e), { force: true });
  fs.rmdirSync(sub);
  return true;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The model's files as tfjs writes them: model.json's content and the weight bytes. */
async function modelArtifacts(model: tf.LayersModel, weightsName: string): Promise<{ modelJson: string; weights: Uint8Array }> {
  let result: { modelJson: string; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs! }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
      };
      result = { modelJson: JSON.stringify(modelJson), weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!)) };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
    { includeOptimizer: model.optimizer != null },
  );
  return result!;
}

/**
 * Saves model and metadata into `dir`: new files beside the old, one atomic rename of seqlab.json,
 * then the old generation and any debris of earlier failed saves are removed. On failure (full
 * disk, read-only folder) the previous checkpoint is intact and the error names the reason.
 */
export async function saveCheckpoint(dir: string, model: tf.LayersModel, content: CheckpointContent): Promise<void> {
  const target = path.resolve(dir);
  const current = peekMeta(target);
  let generation = (current?.files?.generation ?? 0) + 1;
  const name = (g: number) => ({ model: `model-${g}.json`, weights: `weights-${g}.bin` });
  while (fs.existsSync(path.join(target, name(generation).model)) || fs.existsSync(path.join(target, name(generation).weights))) generation++;
  const files = name(generation);
  const { modelJson, weights } = await modelArtifacts(model, files.weights);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    ...content,
    savedAt: new Date().toISOString(),
    files: { ...files, weightsSha256: sha256(weights), generation },
  };
  const written: string[] = [];
  try {
    makeDirs(target);
    for (const [file, data] of [[files.weights, weights], [files.model, modelJson]] as const) {
      written.push(path.join(target, file));
      writeFileSynced(path.join(target, file), data);
    }
    writeFileAtomic(path.join(target, META), JSON.stringify(meta, null, 1)); // the commit
  } catch (err) {
    for (const f of written) fs.rmSync(f, { force: true });
    throw new SeqlabError(`cannot save the checkpoint in ${target}: ${fsReason(err)}; the previous checkpoint, if any, is kept`);
  }
  removeStale(target, meta);
}

/** Removes seqlab's files that the committed checkpoint does not name, and debris of dead saves. */
function removeStale(target: string, meta: CheckpointMeta): void {
  const keep = new Set([META, 'loss.png', meta.files!.model, meta.files!.weights]);
  for (const e of fs.readdirSync(target)) {
    if (keep.has(e) || !OWN_FILE.test(e)) continue;
    const pid = /\.tmp-(\d+)$|probe-(\d+)$/.exec(e);
    if (pid && processAlive(Number(pid[1] ?? pid[2]))) continue;
    fs.rmSync(path.join(target, e), { force: true });
  }
  // folders left beside it by the rename-based saves of seqlab before 0.2 (checkpoint.tmp-PID, .old-PID)
  const parent = path.dirname(target);
  const base = path.basename(target);
  for (const e of fs.readdirSync(parent)) {
    const m = /^(.*)\.(tmp|old)-(\d+)$/.exec(e);
    if (!m || m[1] !== base || processAlive(Number(m[3]))) continue;
    const folder = path.join(parent, e);
    if (isDir(folder) && fs.readdirSync(folder).every((f) => OWN_FILE.test(f))) fs.rmSync(folder, { recursive: true, force: true });
  }
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SeqlabError(`checkpoint is incomplete: ${what} is missing (${file})`);
    throw fileError(`read ${what}`, file, err);
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
  if (!isDir(target)) throw new SeqlabError(`${target} is a file, not a checkpoint folder`);
  const meta = readJson(path.join(target, META), META) as CheckpointMeta;
  if (meta?.format !== CHECKPOINT_FORMAT) {
    throw new SeqlabError(`checkpoint is corrupt: ${path.join(target, META)} is not a seqlab checkpoint`);
  }
  if (meta.task !== task) {
    throw new SeqlabError(`checkpoint at ${target} is for task '${meta.task}', not '${task}'`);
  }
  return meta;
}

/** Index of the first float32 weight that is NaN or infinite, or -1 (other dtypes are whole numbers). */
function firstNonFinite(data: Uint8Array, specs: tf.io.WeightsManifestEntry[]): number {
  const bytes = data.byteOffset % 4 ? data.slice() : data;
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((p, d) => p * d, 1);
    if ((s.dtype ?? 'float32') === 'float32') {
      for (let i = offset; i < offset + n; i++) if (!Number.isFinite(all[i])) return i;
    }
    offset += n;
  }
  return -1;
}

/** Loads model (compiled, with optimizer state when saved) and metadata; clear errors for any damage. */
export async function loadCheckpoint(dir: string, task: string): Promise<{ model: tf.LayersModel; meta: CheckpointMeta }> {
  const meta = readCheckpointMeta(dir, task);
  const target = path.resolve(dir);
  const files = meta.files ?? { model: 'model.json', weights: 'weights.bin', weightsSha256: undefined };
  const modelJson = readJson(path.join(target, files.model), files.model) as tf.io.ModelJSON;
  const weightsFile = path.join(target, files.weights);
  let weightData: Buffer;
  try {
    weightData = fs.readFileSync(weightsFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SeqlabError(`checkpoint is incomplete: ${files.weights} is missing (${weightsFile})`);
    throw fileError('read', weightsFile, err);
  }
  const specs = modelJson.weightsManifest?.flatMap((g) => g.weights) ?? [];
  const expected = specs.reduce((n, s) => n + s.shape.reduce((p, d) => p * d, 1) * 4, 0);
  if (!modelJson.modelTopology || expected !== weightData.byteLength) {
    throw new SeqlabError(
      `checkpoint is corrupt: ${files.weights} has ${weightData.byteLength} bytes, ${files.model} describes ${expected} (${target})`,
    );
  }
  if (files.weightsSha256 && sha256(weightData) !== files.weightsSha256) {
    throw new SeqlabError(`checkpoint is corrupt: ${files.weights} does not match the SHA-256 recorded in seqlab.json (${target}); train again or restore it`);
  }
  const bad = firstNonFinite(weightData, specs);
  if (bad >= 0) throw new SeqlabError(`checkpoint is corrupt: ${files.weights} holds a weight that is NaN or infinite (number ${bad}) (${target})`);
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
