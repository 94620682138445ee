/** The worker thread of sets.ts's Renewal: makes the training-set generations (or parts of one) it is asked for and sends them back. */
import { parentPort, workerData } from 'worker_threads';
import { generation, GenerationSpec } from './sets';
import { SpeechPool } from './pool';

const { pool, spec } = workerData as { pool: SpeechPool; spec: GenerationSpec };
parentPort!.on('message', ({ g, from, to }: { g: number; from: number; to: number }) => {
  const set = generation(pool, spec, g, undefined, [from, to]);
  // the features move to the main thread rather than being copied
  parentPort!.postMessage({ g, from, set }, [...new Set(set.features.map((f) => f.buffer as ArrayBuffer))]);
});
