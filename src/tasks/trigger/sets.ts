/**
 * trigger's example sets: 10 s examples mixed from the word pool (examples.ts) and turned into
 * features once (frontend.ts); and the training set's renewal, generation after generation, made
 * in a worker thread while the model trains. No tfjs here (the worker loads none).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { resample } from '../../audio/resample';
import { Reporter } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { makeExample, Recipe, Segment } from './examples';
import { FeatureKind, frontEnd, FrontEnd, ModelKind } from './frontend';
import { SAMPLE_RATE, SpeechPool } from './pool';

export interface FeatureSet {
  /** per example: time-major features [frames × bands] */
  features: Float32Array[];
  frames: number;
  bands: number;
  /** per example: where each activate is (s) */
  activates: Segment[][];
  /** per example: where each other word is */
  negatives: Segment[][];
}

/** The audio as the front end wants it (16 kHz is the pool's rate; the course model reads 44.1 kHz). */
function atFrontEndRate(fe: FrontEnd, audio: Float32Array): Float32Array {
  return fe.sampleRate === SAMPLE_RATE ? audio : resample(audio, SAMPLE_RATE, fe.sampleRate);
}

/**
 * Features of `count` examples of `recipe` (made one at a time: the audio is not kept); `range`:
 * only examples [from, to) of them, each the same as in the whole set (it depends on its index).
 */
export async function featureSet(fe: FrontEnd, pool: SpeechPool, recipe: Recipe, count: number, seed: number, name: string, reporter?: Reporter, range: [number, number] = [0, count]): Promise<FeatureSet> {
  return (await featureSets([fe], pool, recipe, count, seed, name, reporter, range))[0];
}

/** featureSet through several front ends at once: each example is mixed once, then heard by each (an ensemble's models). */
export async function featureSets(fes: readonly FrontEnd[], pool: SpeechPool, recipe: Recipe, count: number, seed: number, name: string, reporter?: Reporter, range: [number, number] = [0, count]): Promise<FeatureSet[]> {
  const [from, to] = range;
  reporter?.startPhase(name, to - from);
  const sets: FeatureSet[] = fes.map((fe) => ({ features: [], frames: 0, bands: fe.bands, activates: [], negatives: [] }));
  for (let i = from; i < to; i++) {
    const e = makeExample(pool, recipe, new Rng(deriveSeed(seed, name, i)));
    for (const [k, fe] of fes.entries()) {
      const f = await fe.features(atFrontEndRate(fe, e.audio));
      sets[k].features.push(f.data);
      sets[k].activates.push(e.activates);
      sets[k].negatives.push(e.negatives);
      sets[k].frames = f.frames;
    }
    if ((i - from) % 16 === 15) reporter?.batch(i - from + 1, {});
  }
  reporter?.abort();
  return sets;
}

/** What one generation of training examples is made from (all of it can cross to a worker thread). */
export interface GenerationSpec {
  model: ModelKind;
  stride: number;
  features: FeatureKind;
  /** the front end's high-pass (0: none) */
  highPassHz: number;
  recipe: Recipe;
  count: number;
  seed: number;
}

export const TRAINING_SET_NAME = 'training examples';

/** A feature set to make: featureSet's arguments, as they cross to the worker thread (the backgrounds, a user's recordings, are the GenerationSpec's, sent once). */
export interface SetJob {
  recipe: Omit<Recipe, 'backgrounds'>;
  count: number;
  seed: number;
  name: string;
  range: [number, number];
}

/** Makes a job's examples (in whichever thread runs it: each example depends on its index alone). */
export function makeSet(pool: SpeechPool, spec: GenerationSpec, job: SetJob, reporter?: Reporter): Promise<FeatureSet> {
  return featureSet(frontEnd(spec.model, spec.stride, spec.features, spec.highPassHz), pool, { ...job.recipe, backgrounds: spec.recipe.backgrounds }, job.count, job.seed, job.name, reporter, job.range);
}

/** The job for generation g of the training set: generation 0 is the set a run starts with; each later one has its own seed. */
function generationJob(spec: GenerationSpec, g: number): SetJob {
  return { recipe: withoutBackgrounds(spec.recipe), count: spec.count, seed: g === 0 ? spec.seed : deriveSeed(spec.seed, 'trigger-generation', g), name: TRAINING_SET_NAME, range: [0, spec.count] };
}

/** The recipe without a user's recordings, which cross to the worker once. */
export function withoutBackgrounds(recipe: Recipe): Omit<Recipe, 'backgrounds'> {
  const { backgrounds: _, ...rest } = recipe;
  return rest;
}

/** Generation g of the training set, made in this thread. */
export function generation(pool: SpeechPool, spec: GenerationSpec, g: number, reporter?: Reporter): Promise<FeatureSet> {
  return makeSet(pool, spec, generationJob(spec, g), reporter);
}

/** A in place followed by B's examples. */
function append(a: FeatureSet, b: FeatureSet): FeatureSet {
  a.features.push(...b.features);
  a.activates.push(...b.activates);
  a.negatives.push(...b.negatives);
  return a;
}

/** The compiled worker beside this file (absent when the sources run directly, as under ts-jest). */
const defaultWorkerFile = () => path.join(__dirname, 'sets-worker.js');

/** Examples per chunk of a set, the unit the worker and this thread share it in. */
export const CHUNK = 16;

/** [from, to) cut into chunks of CHUNK examples. */
export function chunksOf([from, to]: [number, number]): [number, number][] {
  const out: [number, number][] = [];
  for (let a = from; a < to; a += CHUNK) out.push([a, Math.min(to, a + CHUNK)]);
  return out;
}

/** A set asked of the worker: the next chunk to claim (shared with it), and each chunk as it arrives. */
interface Asked {
  counter: Int32Array;
  chunks: { resolve: (s: FeatureSet) => void; reject: (e: Error) => void; promise: Promise<FeatureSet> }[];
}

/** What the worker sends for each chunk it made. */
export interface ChunkMade {
  key: string;
  chunk: number;
  set: FeatureSet;
}

/**
 * The training set, renewed every `every` epochs: epochs 1..every train on generation 0,
 * the next `every` on generation 1, and so on, so a run sees epochs/every times as many distinct
 * mixes, each at most `every` times. (Measured: with 2,000 examples renewed every 5 epochs,
 * fresh clips in training voices had FRR at ≤ 1 false alarm/h 11.7-16.3% against 19.1% without, seed 1, two runs.)
 * While one generation trains, a worker thread makes the next one (on the second core), and any
 * other set asked for ahead (`ahead`: hard-negative candidates). A set is made in chunks of
 * CHUNK examples that the worker and this thread claim from one shared counter: when training
 * needs a set the worker has not finished, this thread makes the chunks no one has claimed yet
 * rather than wait idle (a fresh `train trigger` on a slow day, the worker late at every renewal:
 * the PCEN model's training 17 min 17 s → 13 min 40 s).
 * Each example depends on its index alone, so every epoch's data depends on the seed alone,
 * whoever made it, and a resumed run gets the same generation at the same epoch. Without a worker
 * file everything is made in this thread.
 */
export class Renewal {
  private worker?: Worker;
  /** what the worker was asked for, by key: the job, its chunks' claim counter, and each chunk as it comes */
  private readonly waiting = new Map<string, Asked>();
  private current = 0;
  /** chunks made so far by this thread (in `take`) and received from the worker */
  readonly chunksMade = { here: 0, worker: 0 };

  constructor(
    private readonly pool: SpeechPool,
    private readonly spec: GenerationSpec,
    readonly every: number,
    private readonly epochs: number,
    workerFile: string | null = defaultWorkerFile(),
  ) {
    if (workerFile && fs.existsSync(workerFile)) {
      this.worker = new Worker(workerFile, { workerData: { pool, spec } });
      this.worker.on('message', (m: ChunkMade) => {
        this.chunksMade.worker++;
        this.waiting.get(m.key)?.chunks[m.chunk]?.resolve(m.set);
      });
      this.worker.on('error', (err) => this.failAll(err));
      this.worker.on('exit', (code) => this.failAll(new Error(`exited with code ${code}`)));
      // a worker that is only making examples must not keep the process alive
      this.worker.unref();
    }
  }

  /** whether sets are being made in a worker thread */
  get inWorker(): boolean {
    return this.worker !== undefined;
  }

  generationOf(epoch: number): number {
    return this.every > 0 ? Math.floor((epoch - 1) / this.every) : 0;
  }

  /** The set a run starting at `epoch` trains on first: its generation, made here and in the worker at once (chunk by chunk). */
  async start(epoch: number, reporter?: Reporter): Promise<FeatureSet> {
    const g = this.generationOf(epoch);
    this.current = g;
    const key = `generation ${g}`;
    const job = generationJob(this.spec, g);
    this.ahead(key, job);
    return this.take(key, job, reporter, true);
  }

  /** Asks the worker for `job` under `key` (once; nothing without a worker). */
  ahead(key: string, job: SetJob): void {
    if (!this.worker || this.waiting.has(key)) return;
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const chunks = chunksOf(job.range).map(() => {
      let resolve!: (s: FeatureSet) => void, reject!: (e: Error) => void;
      const promise = new Promise<FeatureSet>((res, rej) => ((resolve = res), (reject = rej)));
      // a chunk this thread makes itself, or one of a set never used, must not surface as an unhandled rejection
      promise.catch(() => undefined);
      return { resolve, reject, promise };
    });
    this.waiting.set(key, { counter, chunks });
    this.worker.postMessage({ key, job, counter });
  }

  /**
   * The set asked for ahead under `key`: the chunks the worker has made, the ones no one has
   * claimed yet made here meanwhile, then the worker's last ones awaited; all of it made here when
   * it was not asked for (or the worker stopped). `progress`: a progress bar for all of it (else
   * the reporter only warns).
   */
  async take(key: string, job: SetJob, reporter?: Reporter, progress = false): Promise<FeatureSet> {
    const asked = this.waiting.get(key);
    if (!asked) return makeSet(this.pool, this.spec, job, reporter);
    const bar = progress ? reporter : undefined;
    const ranges = chunksOf(job.range);
    const parts: (FeatureSet | undefined)[] = ranges.map(() => undefined);
    const count = () => parts.reduce((n, p, c) => n + (p ? ranges[c][1] - ranges[c][0] : 0), 0);
    bar?.startPhase(job.name, job.range[1] - job.range[0]);
    asked.chunks.forEach((c, i) => void c.promise.then((set) => ((parts[i] = set), bar?.batch(count(), {})), () => undefined));
    // held while awaited: an unreferenced worker would let the process end under the await
    this.worker?.ref();
    try {
      for (let c = Atomics.add(asked.counter, 0, 1); c < ranges.length; c = Atomics.add(asked.counter, 0, 1)) {
        parts[c] = await makeSet(this.pool, this.spec, { ...job, range: ranges[c] });
        this.chunksMade.here++;
        bar?.batch(count(), {});
      }
      let stopped = false;
      for (const [c, chunk] of asked.chunks.entries()) {
        if (parts[c]) continue;
        try {
          if (!stopped) parts[c] = await chunk.promise;
        } catch (err) {
          // said once: every chunk still out fails with the same message
          reporter?.warn(`${(err as Error).message}; making the rest in the main thread`);
          stopped = true;
        }
        parts[c] ??= await makeSet(this.pool, this.spec, { ...job, range: ranges[c] });
      }
    } finally {
      // (kept until here: the worker's chunks find their promises through it)
      this.waiting.delete(key);
      this.worker?.unref();
      bar?.abort();
    }
    const set: FeatureSet = { features: [], frames: 0, bands: parts[0]?.bands ?? 0, activates: [], negatives: [] };
    for (const part of parts as FeatureSet[]) {
      append(set, part);
      if (part.features.length) set.frames = part.frames;
    }
    return set;
  }

  /**
   * Before `epoch`: puts its generation's examples in `set` (in place) when that is not the one
   * there, and asks the worker for the generation after it. Returns the generation now in `set`.
   */
  async prepare(epoch: number, set: FeatureSet, reporter?: Reporter): Promise<number> {
    const g = this.generationOf(epoch);
    if (g !== this.current) {
      const next = await this.take(`generation ${g}`, generationJob(this.spec, g), reporter);
      set.features.splice(0, set.features.length, ...next.features);
      set.activates.splice(0, set.activates.length, ...next.activates);
      set.negatives.splice(0, set.negatives.length, ...next.negatives);
      this.current = g;
    }
    if (this.every > 0 && (g + 1) * this.every < this.epochs) this.ahead(`generation ${g + 1}`, generationJob(this.spec, g + 1));
    return g;
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) for (const c of w.chunks) c.reject(new Error(`the worker making training examples stopped (${err.message})`));
    this.waiting.clear();
    this.worker = undefined;
  }

  /** Stops the worker (what it was making is dropped). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.waiting.clear();
    if (w) await w.terminate();
  }
}
