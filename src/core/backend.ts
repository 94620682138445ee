/**
 * Backend choice. seqlab always has the wasm and pure-JS cpu backends; the others are optional
 * packages: @tensorflow/tfjs-node-gpu and @tensorflow/tfjs-node install only where libtensorflow
 * can be downloaded; `webgpu` (Dawn, prebuilt in its npm tarball) with
 * @tensorflow/tfjs-backend-webgpu runs on any GPU with a Vulkan (Linux), Metal or D3D12 driver.
 * `auto` takes the best that loads: CUDA GPU > WebGPU > native CPU > wasm > cpu, and remembers
 * why the others were passed over. A CPU-emulated WebGPU adapter (Mesa's lavapipe, SwiftShader)
 * is never picked by `auto`; `--backend webgpu` takes it (that is how the tests run without a GPU).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { pathToFileURL } from 'url';
import * as tf from '@tensorflow/tfjs';
import { SeqlabError, UsageError, messageOf } from './errors';
import { kernelThreads } from './kernels';
import { speedUpWasmKernels } from './wasm-kernels';
import { registerWebgpuKernels } from './webgpu-kernels';

export const BACKENDS = ['auto', 'cuda', 'webgpu', 'node', 'wasm', 'cpu'] as const;
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
  /** webgpu: the adapter as Dawn describes it, e.g. "nvidia (NVIDIA: 580.159.04 580.159.4.0)" (vendor, driver) */
  adapter?: string;
}

interface Candidate {
  name: Exclude<BackendName, 'auto'>;
  tfBackend: string;
  /** loads the backend's package; `auto` is true when the user did not ask for this one by name */
  load(auto: boolean): Promise<void | { adapter: string }>;
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
  { name: 'webgpu', tfBackend: 'webgpu', load: loadWebgpu },
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
  if (/Cannot find (module|package)/.test(msg)) return 'not installed';
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
      const loaded = await cand.load(preference === 'auto');
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
        ...(loaded ? { adapter: loaded.adapter } : {}),
      };
      return current;
    } catch (err) {
      attempts.push(`${cand.name}: ${shortReason(err)}`);
    }
  }
  throw new SeqlabError(`backend '${preference}' is not available here (${attempts.join('; ')})`);
}

/** What a WebGPU adapter says it is, in one line. */
export function describeAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string }): string {
  const main = [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = info.description || info.device;
  return detail ? `${main} (${detail})` : main;
}

/** A CPU emulation of a GPU (lavapipe, SwiftShader): correct, but slower than wasm. */
export function isSoftwareAdapter(info: { architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  return !!info.isFallbackAdapter || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`);
}

interface Dawn {
  create(flags: string[]): { requestAdapter(o?: object): Promise<GpuAdapterLike | null> };
  globals: Record<string, unknown>;
}
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

/** The `webgpu` package is an ES module: imported for real, not through the CommonJS require tsc writes. */
async function importDawn(): Promise<Dawn> {
  try {
    const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Dawn>;
    return await importEsm('webgpu');
  } catch (err) {
    // where dynamic import is unavailable (a vm context such as jest's): the addon the package wraps
    if (/Cannot find (module|package) 'webgpu'/.test(messageOf(err))) throw err;
    const arch = process.platform === 'darwin' ? 'universal' : process.arch;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`webgpu/dist/${process.platform}-${arch}/dawn.node`) as Dawn;
  }
}

/** A GPU device node exists (Linux): without one Dawn can only find CPU emulations, and says so noisily. */
function hasGpuDevice(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    return fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD')) || fs.readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f));
  } catch {
    try {
      return fs.readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f));
    } catch {
      return false;
    }
  }
}

/** Whether Dawn finds an adapter, asked in a child process whose stderr is dropped. */
function emulatedAdapterAnswers(): boolean {
  let entry: string;
  try {
    entry = require.resolve('webgpu');
  } catch {
    return true; // not installed: importDawn says so
  }
  const probe = `const { create } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const a = await create([]).requestAdapter();
    process.stdout.write(a ? 'adapter' : 'none');
    process.exit(0);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
  return run.stdout === 'adapter';
}

/**
 * Dawn, its GPU object and adapter, made once per process (a second Dawn instance, and the first
 * one's teardown, can abort the process), then the backend registered once.
 */
let dawnOpened: Promise<{ dawn: Dawn; gpu: ReturnType<Dawn['create']>; adapter: GpuAdapterLike | null }> | undefined;
let webgpuLoaded: { adapter: string } | undefined;

async function loadWebgpu(auto: boolean): Promise<{ adapter: string }> {
  if (webgpuLoaded) return webgpuLoaded;
  if (!hasGpuDevice()) {
    if (auto) throw new Error('no GPU device here (/dev/dri/renderD*, /dev/nvidia*)');
    // only a CPU emulation can answer here; ask in a child process first, so that Dawn's and the
    // Vulkan drivers' messages about finding none do not reach the user's terminal
    if (!emulatedAdapterAnswers()) throw new Error('no GPU here, and no CPU-emulated adapter (for one: eval "$(bash scripts/lavapipe.sh)" in seqlab\'s folder)');
  }
  dawnOpened ??= importDawn().then(async (dawn) => {
    const gpu = dawn.create([]);
    return { dawn, gpu, adapter: await gpu.requestAdapter({ powerPreference: 'high-performance' }) };
  });
  const { dawn, gpu, adapter } = await dawnOpened;
  if (!adapter) throw new Error('no WebGPU adapter (no Vulkan, Metal or D3D12 driver for a GPU)');
  const info = adapter.info ?? {};
  if (auto && isSoftwareAdapter(info)) {
    throw new Error(`only a CPU-emulated adapter, ${describeAdapter(info)} (--backend webgpu uses it)`);
  }
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it loads
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const webgpu = require('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: { prototype: UploadingBackend } };
  uploadWithWriteBuffer(webgpu.WebGPUBackend.prototype);
  registerWebgpuKernels();
  // submit recorded work to the GPU every 64 dispatches (tfjs: 15): fewer submits cost the host less
  // in Dawn (the date model at batch 256 on an H100, in the training loop's pattern: 19-26 ms a step
  // against 23-32 at 15; noisy), and the training loop does not wait for the GPU between steps
  // (train.ts StepValues)
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 64);
  webgpuLoaded = { adapter: describeAdapter(info) };
  return webgpuLoaded;
}

/** The part of tfjs-backend-webgpu's WebGPUBackend that uploads a tensor's values to the GPU. */
interface UploadingBackend {
  uploadToGPU(this: UploadingBackend, dataId: object): void;
  tensorMap: { get(dataId: object): { dtype: string; shape: number[]; values: ArrayLike<number> | null; resource: unknown } };
  bufferManager: { acquireBuffer(size: number, usage: number): unknown };
  queue: { writeBuffer(buffer: unknown, offset: number, data: ArrayBufferView): void };
}

/**
 * tfjs-backend-webgpu uploads a tensor made on the CPU through a new mapped staging buffer, created
 * and destroyed each time, and ends the compute pass to copy it: ~0.3 ms of host time in Dawn per
 * upload, and tfjs' gradients make several small constant tensors on the CPU at every training step.
 * queue.writeBuffer (what tfjs uses for its uniforms) copies through Dawn's own staging ring instead.
 * It lands before any command not yet submitted, which is safe: the buffer comes from tfjs' free pool,
 * which takes buffers back only once no unsubmitted command refers to them.
 */
function uploadWithWriteBuffer(proto: UploadingBackend): void {
  const original = proto.uploadToGPU;
  proto.uploadToGPU = function (dataId) {
    const data = this.tensorMap.get(dataId);
    const size = 4 * data.shape.reduce((a, b) => a * b, 1);
    if (data.resource != null || !data.values || size === 0 || !['float32', 'int32', 'bool'].includes(data.dtype)) {
      original.call(this, dataId);
      return;
    }
    const usage = GPU_BUFFER_STORAGE | GPU_BUFFER_COPY_SRC | GPU_BUFFER_COPY_DST; // what tfjs gives every tensor
    const buffer = this.bufferManager.acquireBuffer(size, usage);
    const { values } = data;
    const typed = data.dtype === 'float32' ? (values instanceof Float32Array ? values : Float32Array.from(values)) : values instanceof Int32Array ? values : Int32Array.from(values);
    this.queue.writeBuffer(buffer, 0, typed);
    data.values = null;
    data.resource = buffer;
  };
}
// GPUBufferUsage flags (the WebGPU standard's values)
const GPU_BUFFER_COPY_SRC = 0x0004;
const GPU_BUFFER_COPY_DST = 0x0008;
const GPU_BUFFER_STORAGE = 0x0080;

function threadsOf(tfBackend: string): number {
  // wasm and cpu run their own kernels on one thread (Node rejects the worker the threaded wasm build
  // needs); seqlab's kernels, where the recurrent models spend their time, use kernelThreads()
  if (tfBackend === 'wasm' || tfBackend === 'cpu') return kernelThreads();
  if (tfBackend === 'webgpu') return 1;
  return require('os').cpus().length;
}

/** One line for the user: which backend runs and why. */
export function describeBackend(info: BackendInfo): string {
  const passed = info.attempts.filter((a) => !a.endsWith(': loaded'));
  const why = passed.length ? ` (${passed.join('; ')})` : '';
  const on = info.adapter ? ` on ${info.adapter}` : '';
  return `backend: ${info.name}${on}${why}`;
}
