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
import { highPass } from '../../audio/mix';
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
  /** a variant file's text (eSpeak's voices/!v format) to speak with instead of the named variant's: see randomVariant */
  custom?: string;
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

interface ESpeakFS {
  readFile(p: string): Uint8Array;
  writeFile(p: string, data: string): void;
}

type ESpeakFactory = (opts: Record<string, unknown>) => Promise<{ FS: ESpeakFS }>;

/** Where eSpeak NG's voice variants are in the package's virtual file system. */
const VARIANT_DIR = '/usr/local/share/espeak-ng-data/voices/!v';

const dynamicImport = new Function('p', 'return import(p)') as (p: string) => Promise<{ default: ESpeakFactory }>;

/** A file of a synthesizer's npm package; one line naming the package when it is not installed. */
export function synthesizerFile(id: string, pkg: string): string {
  try {
    return require.resolve(id);
  } catch {
    throw new SeqlabError(`speech synthesis needs the ${pkg} package, which is not installed: run npm install`);
  }
}

/** eSpeak NG, loaded once: the wasm compiled once and instantiated per call. */
export class Speaker {
  private constructor(private readonly factory: ESpeakFactory, private readonly wasm: WebAssembly.Module) {}
  private variantTexts = new Map<string, string>();

  static async load(): Promise<Speaker> {
    const entry = synthesizerFile('espeak-ng/dist/espeak-ng.js', 'espeak-ng');
    const wasm = await WebAssembly.compile(fs.readFileSync(path.join(path.dirname(entry), 'espeak-ng.wasm')));
    const { default: factory } = await dynamicImport(entry);
    return new Speaker(factory, wasm);
  }

  /** One run of the espeak-ng program; `custom` is written as the variant CUSTOM_VARIANT before it starts. */
  private async run(args: string[], custom?: string): Promise<ESpeakFS> {
    // its file system makes an Error (with a stack trace, formatted) for every path it probes: about a
    // fifth of synthesis time in a profile; only the messages are ever shown
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return await this.start(args, custom);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private async start(args: string[], custom?: string): Promise<ESpeakFS> {
    const es = await this.factory({
      arguments: args,
      instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
        WebAssembly.instantiate(this.wasm, withFixedClock(imports)).then(done);
        return {};
      },
      // after the embedded data files exist and before main() runs
      onRuntimeInitialized(this: { FS: ESpeakFS }) {
        if (custom !== undefined) this.FS.writeFile(`${VARIANT_DIR}/${CUSTOM_VARIANT}`, custom);
      },
      print: () => {},
      printErr: () => {},
    });
    return es.FS;
  }

  /** The text of one of eSpeak NG's variant files (read once per Speaker). */
  async variantText(variant: string): Promise<string> {
    if (!this.variantTexts.size) {
      const fs = await this.run(['--version']);
      for (const v of VARIANTS) this.variantTexts.set(v, new TextDecoder().decode(fs.readFile(`${VARIANT_DIR}/${v}`)));
    }
    const text = this.variantTexts.get(variant);
    if (text === undefined) throw new SeqlabError(`eSpeak NG has no voice variant ${variant}`);
    return text;
  }

  /**
   * Speaks `words` in one voice, each with its own rate and pitch (percent of the voice's), and
   * returns each as 16 kHz samples, or undefined when the pauses did not split the audio into
   * exactly one piece per word (rare: a word with a long silence inside it).
   */
  async speak(voice: VoiceSpec, words: readonly { text: string; rate: number; pitch: number }[], sampleRate = 16000): Promise<Spoken[] | undefined> {
    const ssml = '<speak>' + words.map((w) => `<prosody rate="${w.rate}%" pitch="${w.pitch >= 0 ? '+' : ''}${w.pitch}%">${escapeXml(w.text)}</prosody><break time="800ms"/>`).join('') + '</speak>';
    const name = voice.custom !== undefined ? `${voice.accent}+${CUSTOM_VARIANT}` : voice.variant ? `${voice.accent}+${voice.variant}` : voice.accent;
    let wav: Uint8Array;
    try {
      wav = (await this.run(['-m', '-v', name, '-s', String(voice.speed), '-p', String(voice.pitch), '-w', '/out.wav', ssml], voice.custom)).readFile('/out.wav');
    } catch (err) {
      throw new SeqlabError(`speech synthesis failed for voice ${voice.custom !== undefined ? `${voice.accent}+${voice.variant} (varied)` : name}: ${messageOf(err)}`);
    }
    const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    const raw = new Float32Array((wav.byteLength - 44) >> 1);
    for (let i = 0; i < raw.length; i++) raw[i] = view.getInt16(44 + 2 * i, true) / 32768;
    const pcm = highPass(raw, ESPEAK_RATE, SPEECH_HIGH_PASS_HZ);
    const pieces = splitAtPauses(pcm, ESPEAK_RATE);
    if (pieces.length !== words.length) return undefined;
    return pieces.map(([a, b], i) => ({ text: words[i].text, samples: resample(pcm.subarray(a, b), ESPEAK_RATE, sampleRate) }));
  }
}

/**
 * eSpeak NG's Klatt voices without voicing (caleb, and randomVariant's whispers) put most of their
 * energy below 20 Hz: an offset of −0.1 to −0.3 that follows each vowel (caleb's "activate": 12 dB
 * of its power), which no microphone records, and which made a word mixed at a given SNR or level
 * that much quieter in its audible part. Every word is high-passed as a microphone would (4th-order
 * Butterworth at 50 Hz; speech keeps what is above ~70 Hz).
 */
export const SPEECH_HIGH_PASS_HZ = 50;

/** The name a varied voice is written under. */
const CUSTOM_VARIANT = 'seqlab-varied';

/**
 * A new voice from a variant file: its formants moved (one vocal-tract factor for all, ±10%, and
 * ±6% each), their heights and widths scaled, its pitch range redrawn, and sometimes rough,
 * breathy or fluttering; a fifth of them whisper (eSpeak NG's Klatt synthesizer with the voicing
 * off, as its `caleb` variant: no training variant whispers so, and held-out voices of caleb were
 * the most missed). Pure: `random` gives numbers in [0, 1). Training voices are varied from
 * training variants only, so held-out variants stay unheard.
 */
export function randomVariant(base: string, random: () => number): string {
  const u = (lo: number, hi: number) => lo + (hi - lo) * random();
  const tract = u(0.9, 1.1);
  const low = Math.round(u(70, 190));
  const lines = base.split('\n').filter((line) => !/^\s*(pitch|flutter|roughness|breath|breathw|name)\b/.test(line));
  const out = lines.map((line) => {
    const m = /^\s*formant\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) return line;
    const k = Number(m[1]);
    const values = m[2].trim().split(/\s+/).map(Number);
    if (k === 0 || values.length < 3 || values[0] === 0) return line;
    values[0] = Math.round(values[0] * tract * u(0.94, 1.06));
    values[1] = Math.round(values[1] * u(0.8, 1.2));
    values[2] = Math.round(values[2] * u(0.85, 1.15));
    return `formant ${k} ${values.join(' ')}`;
  });
  out.push(`name ${CUSTOM_VARIANT}`, `pitch ${low} ${low + Math.round(u(15, 70))}`);
  if (random() < 0.3) out.push(`flutter ${Math.round(u(0, 20))}`);
  if (random() < 0.2) out.push(`roughness ${Math.round(u(1, 5))}`);
  if (random() < 0.15) out.push(`breath ${Array.from({ length: 8 }, () => Math.round(u(0, 4))).join(' ')}`);
  if (random() >= WHISPERED) return out.join('\n') + '\n';
  // whispered: breath noise through the formants instead of a voiced source ("whisper" and "whisperf" keep some voicing)
  const breath = Math.round(u(60, 100));
  return [...out.filter((line) => !/^\s*(voicing|klatt|breath|breathw|flutter|roughness)\b/.test(line)), 'klatt 6', 'voicing 0', `breath ${breath}`].join('\n') + '\n';
}

/** the share of new voices (randomVariant) that whisper */
export const WHISPERED = 0.2;

/** Whether a variant file's voice whispers: its voicing is off (randomVariant's whispers, eSpeak NG's caleb). */
export function whispers(variantText: string): boolean {
  return /^\s*voicing\s+0\s*$/m.test(variantText);
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
