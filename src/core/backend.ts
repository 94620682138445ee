/**
 * Backend choice. seqlab always has the wasm and pure-JS cpu backends; the native ones
 * (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) are optional packages that only install
 * where libtensorflow can be downloaded. `auto` takes the best that loads:
 * CUDA GPU > native CPU > wasm > cpu, and remembers why the others were passed over.
 */
import * as tf from '@tensorflow/tfjs';
import { SeqlabError, UsageError, messageOf } from './errors';
import { speedUpWasmKernels } from './wasm-kernels';

export const BACKENDS = ['auto', 'cuda', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  /** what seqlab calls it: cuda, node, wasm or cpu */
  name: Exclude<BackendName, 'auto'>;
  /** the tfjs backend name (tensorflow, wasm, cpu) */
  tfBackend: string;
  /** one line per backend tried: loaded, or why not */
  attempts: string[];
  tfjsVersion: string;
  threads: number;
}

interface Candidate {
  name: Exclude<BackendName, 'auto'>;
  tfBackend: string;
  load(): Promise<void>;
}

const candidates: Candidate[] = [
  {
    name: 'cuda',
    tfBackend: 'tensorflow',
    async load() {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-node-gpu');
    },
  },
  {
    name: 'node',
    tfBackend: 'tensorflow',
    async load() {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-node');
    },
  },
  {
    name: 'wasm',
    tfBackend: 'wasm',
    async load() {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-wasm');
      speedUpWasmKernels();
    },
  },
  { name: 'cpu', tfBackend: 'cpu', async load() {} },
];

let current: BackendInfo | undefined;

/** tfjs warnings that say nothing a seqlab user can act on (the backend line says it better). */
const NOISE = [/looks like you are running TensorFlow\.js in Node\.js/, /Orthogonal initializer is being called on a matrix/];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && NOISE.some((re) => re.test(args[0] as string))) return;
  warn(...args);
};

/** Short reason for a failed load: the first line, without the require stack. */
function shortReason(err: unknown): string {
  const msg = messageOf(err).split('\n')[0];
  if (/Cannot find module/.test(msg)) return 'not installed';
  return msg.length > 160 ? msg.slice(0, 157) + '...' : msg;
}

/** Selects (once per process) and initialises the backend. `auto` falls through the list. */
export async function initBackend(preference: BackendName = 'auto'): Promise<BackendInfo> {
  if (!BACKENDS.includes(preference)) {
    throw new UsageError(`unknown backend '${preference}' (choose one of: ${BACKENDS.join(', ')})`);
  }
  if (current && (preference === 'auto' || preference === current.name)) return current;
  const wanted = preference === 'auto' ? candidates : candidates.filter((c) => c.name === preference);
  const attempts: string[] = [];
  for (const cand of wanted) {
    try {
      await cand.load();
      const ok = await tf.setBackend(cand.tfBackend);
      if (!ok) throw new Error(`tf.setBackend('${cand.tfBackend}') failed`);
      await tf.ready();
      attempts.push(`${cand.name}: loaded`);
      current = {
        name: cand.name,
        tfBackend: cand.tfBackend,
        attempts,
        tfjsVersion: tf.version.tfjs,
        threads: threadsOf(cand.tfBackend),
      };
      return current;
    } catch (err) {
      attempts.push(`${cand.name}: ${shortReason(err)}`);
    }
  }
  throw new SeqlabError(`backend '${preference}' is not available here (${attempts.join('; ')})`);
}

function threadsOf(tfBackend: string): number {
  if (tfBackend === 'wasm') {
    // Node rejects the worker the threaded wasm build needs, so it runs on one thread.
    return 1;
  }
  if (tfBackend === 'cpu') return 1;
  return require('os').cpus().length;
}

/** One line for the user: which backend runs and why. */
export function describeBackend(info: BackendInfo): string {
  const passed = info.attempts.filter((a) => !a.endsWith(': loaded'));
  const why = passed.length ? ` (${passed.join('; ')})` : '';
  return `backend: ${info.name}${why}`;
}
