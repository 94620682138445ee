/** The worker thread of sets.ts's Renewal: makes the feature sets it is asked for (training-set generations, parts of one, hard-negative candidates) and sends them back. */
import { parentPort, workerData } from 'worker_threads';
import { GenerationSpec, makeSet, SetJob } from './sets';
import { SpeechPool } from './pool';

const { pool, spec } = workerData as { pool: SpeechPool; spec: GenerationSpec };
parentPort!.on('message', async ({ key, job }: { key: string; job: SetJob }) => {
  const set = await makeSet(pool, spec, job);
  // the features move to the main thread rather than being copied
  parentPort!.postMessage({ key, set }, [...new Set(set.features.map((f) => f.buffer as ArrayBuffer))]);
});
