/**
 * Speech for trigger's training data, synthesized offline with eSpeak NG (the `espeak-ng` npm
 * package: eSpeak NG compiled to WebAssembly, GPL-3.0-or-later). It is an ordinary dependency that
 * is loaded lazily here and only here, never bundled or vendored; what it produces is audio, not code.
 *
 * One espeak instance costs ~0.2 s to start, so one call speaks many words (SSML, a pause between
 * words, each word with its own rate and pitch), and the words are cut apart again at the pauses.
 */
import * as fs from 'fs';
import * as path from 'path';
import { resample } from '../../audio/resample';
import { SeqlabError, messageOf } from '../../core/errors';

/** eSpeak NG's output rate. */
const ESPEAK_RATE = 22050;

/** The English accents of eSpeak NG. */
export const ACCENTS = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'] as const;

/**
 * Voice variants (eSpeak's voices/!v) that change the sound ("fast" and "klatt*" give the default
 * voice in this build). Every sixth is held out of training, so eval measures voices never heard.
 */
export const VARIANTS = [
  'Alex', 'Alicia', 'Andrea', 'Andy', 'Annie', 'AnxiousAndy', 'Denis', 'Diogo', 'Gene', 'Gene2', 'Henrique', 'Hugo', 'Jacky', 'Lee',
  'Marco', 'Mario', 'Michael', 'Mike', 'Nguyen', 'Reed', 'RicishayMax', 'RicishayMax2', 'RicishayMax3', 'Storm', 'Tweaky',
  'adam', 'anika', 'announcer', 'antonio', 'aunty', 'belinda', 'benjamin', 'boris', 'caleb', 'croak', 'david', 'ed', 'edward',
  'edward2', 'f1', 'f2', 'f3', 'f4', 'f5', 'grandma', 'grandpa', 'gustave', 'ian', 'iven', 'iven2', 'iven3', 'iven4', 'john',
  'kaukovalta', 'linda', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'marcelo', 'max', 'michel', 'miguel', 'mike2', 'norbert',
  'pablo', 'paul', 'pedro', 'quincy', 'rob', 'robert', 'sandro', 'shelby', 'steph', 'steph2', 'steph3', 'travis', 'victor',
  'whisper', 'whisperf', 'zac',
] as const;
export const HELD_OUT_VARIANTS: readonly string[] = VARIANTS.filter((_, i) => i % 6 === 3);
export const TRAINING_VARIANTS: readonly string[] = VARIANTS.filter((_, i) => i % 6 !== 3);

/** The trigger word. */
export const TRIGGER = 'activate';

/**
 * Words that are not the trigger: near-misses first (they sound like it), then everyday words and
 * short phrases. Never a word that contains "activate" (activated, deactivate, reactivate).
 */
export const NEAR_MISSES = [
  'active', 'activity', 'action', 'actor', 'captivate', 'cultivate', 'motivate', 'vacate', 'actuate', 'activist', 'evaluate',
  'navigate', 'aggravate', 'elevate', 'renovate', 'innovate', 'excavate', 'accurate', 'actively', 'activism', 'octave', 'attic',
  'tivate', 'acting', 'vacation', 'activation', 'cavity', 'captive', 'detective', 'attractive',
] as const;

export const NEGATIVE_WORDS = [
  ...NEAR_MISSES,
  'hello', 'computer', 'music', 'weather', 'tomorrow', 'kitchen', 'lights', 'please', 'stop', 'okay', 'coffee', 'water',
  'seven', 'eleven', 'about', 'because', 'dinner', 'window', 'garden', 'telephone', 'yesterday', 'remember', 'maybe',
  'turn on the lights', 'what time is it', 'play some music', 'good morning', 'thank you', 'see you later', 'not yet',
  'how are you', 'I think so', 'the cat sat down', 'open the door', 'set a timer', 'call my mother', 'it is raining',
] as const;

export interface VoiceSpec {
  accent: string;
  /** a variant name, or '' for the accent's own voice */
  variant: string;
  /** words per minute (eSpeak's default is 175) */
  speed: number;
  /** base pitch 0-99 (default 50) */
  pitch: number;
}

export interface Spoken {
  /** the word or phrase */
  text: string;
  /** 16 kHz mono samples, trimmed to the speech */
  samples: Float32Array;
}

type ESpeakFactory = (opts: Record<string, unknown>) => Promise<{ FS: { readFile(p: string): Uint8Array } }>;

const dynamicImport = new Function('p', 'return import(p)') as (p: string) => Promise<{ default: ESpeakFactory }>;

/** eSpeak NG, loaded once: the wasm compiled once and instantiated per call. */
export class Speaker {
  private constructor(private readonly factory: ESpeakFactory, private readonly wasm: WebAssembly.Module) {}

  static async load(): Promise<Speaker> {
    let entry: string;
    try {
      entry = require.resolve('espeak-ng/dist/espeak-ng.js');
    } catch {
      throw new SeqlabError('speech synthesis needs the espeak-ng package, which is not installed: run npm install');
    }
    const wasm = await WebAssembly.compile(fs.readFileSync(path.join(path.dirname(entry), 'espeak-ng.wasm')));
    const { default: factory } = await dynamicImport(entry);
    return new Speaker(factory, wasm);
  }

  /**
   * Speaks `words` in one voice, each with its own rate and pitch (percent of the voice's), and
   * returns each as 16 kHz samples, or undefined when the pauses did not split the audio into
   * exactly one piece per word (rare: a word with a long silence inside it).
   */
  async speak(voice: VoiceSpec, words: readonly { text: string; rate: number; pitch: number }[], sampleRate = 16000): Promise<Spoken[] | undefined> {
    const ssml = '<speak>' + words.map((w) => `<prosody rate="${w.rate}%" pitch="${w.pitch >= 0 ? '+' : ''}${w.pitch}%">${escapeXml(w.text)}</prosody><break time="800ms"/>`).join('') + '</speak>';
    const name = voice.variant ? `${voice.accent}+${voice.variant}` : voice.accent;
    let wav: Uint8Array;
    try {
      const es = await this.factory({
        arguments: ['-m', '-v', name, '-s', String(voice.speed), '-p', String(voice.pitch), '-w', '/out.wav', ssml],
        instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
          WebAssembly.instantiate(this.wasm, withFixedClock(imports)).then(done);
          return {};
        },
        print: () => {},
        printErr: () => {},
      });
      wav = es.FS.readFile('/out.wav');
    } catch (err) {
      throw new SeqlabError(`speech synthesis failed for voice ${name}: ${messageOf(err)}`);
    }
    const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    const pcm = new Float32Array((wav.byteLength - 44) >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(44 + 2 * i, true) / 32768;
    const pieces = splitAtPauses(pcm, ESPEAK_RATE);
    if (pieces.length !== words.length) return undefined;
    return pieces.map(([a, b], i) => ({ text: words[i].text, samples: resample(pcm.subarray(a, b), ESPEAK_RATE, sampleRate) }));
  }
}

/**
 * eSpeak seeds its random numbers (the noise in some voices) from the wall clock, so the same
 * words in the same voice came out different from run to run (10 of 86 variants differed between
 * two runs). With its clock at 0 every call says the same thing, and a seed gives one pool.
 */
function withFixedClock(imports: WebAssembly.Imports): WebAssembly.Imports {
  return { ...imports, env: { ...imports.env, emscripten_date_now: () => 0 } };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * [start, end) of each stretch of sound separated by at least `minPause` seconds of near-silence
 * (10 ms frames below −45 dB of the loudest frame), with 10 ms kept either side.
 */
export function splitAtPauses(x: Float32Array, sampleRate: number, minPause = 0.4): [number, number][] {
  const frame = Math.round(sampleRate / 100);
  const frames = Math.floor(x.length / frame);
  const energy = new Float64Array(frames);
  let loudest = 0;
  for (let f = 0; f < frames; f++) {
    let e = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) e += x[i] * x[i];
    energy[f] = e / frame;
    loudest = Math.max(loudest, energy[f]);
  }
  const floor = loudest * 10 ** (-45 / 10);
  const pieces: [number, number][] = [];
  let start = -1;
  let lastLoud = -1;
  const gap = Math.round(minPause * 100);
  for (let f = 0; f < frames; f++) {
    if (energy[f] <= floor) continue;
    if (start < 0) start = f;
    else if (f - lastLoud > gap) {
      pieces.push([start, lastLoud + 1]);
      start = f;
    }
    lastLoud = f;
  }
  if (start >= 0) pieces.push([start, lastLoud + 1]);
  return pieces.map(([a, b]) => [Math.max(0, (a - 1) * frame), Math.min(x.length, (b + 1) * frame)]);
}
