/**
 * The worker thread of sets.ts's Renewal: makes the feature sets it is asked for (training-set
 * generations, hard-negative candidates) chunk by chunk, claiming each chunk from a counter it
 * shares with the main thread (which makes the unclaimed ones itself when it needs the set), and
 * sends each back as it is made.
 */
import { parentPort, workerData } from 'worker_threads';
import { ChunkMade, chunksOf, GenerationSpec, makeSet, SetJob } from './sets';
import { SpeechPool } from './pool';

const { pool, spec } = workerData as { pool: SpeechPool; spec: GenerationSpec };
parentPort!.on('message', async ({ key, job, counter }: { key: string; job: SetJob; counter: Int32Array }) => {
  const ranges = chunksOf(job.range);
  for (let chunk = Atomics.add(counter, 0, 1); chunk < ranges.length; chunk = Atomics.add(counter, 0, 1)) {
    const set = await makeSet(pool, spec, { ...job, range: ranges[chunk] });
    const made: ChunkMade = { key, chunk, set };
    // the features move to the main thread rather than being copied
    parentPort!.postMessage(made, [...new Set(set.features.map((f) => f.buffer as ArrayBuffer))]);
  }
});
