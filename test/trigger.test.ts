import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { encodeWav16 } from '../src/audio/wav';
import { initBackend } from '../src/core/backend';
import { saveCheckpoint } from '../src/core/checkpoint';
import { Rng } from '../src/core/rng';
import { conv1d } from '../src/models/patches';
import { cropBatch, mineHardNegatives } from '../src/tasks/trigger/data';
import { CHUNK, featureSet, FeatureSet, generation, Renewal, withoutBackgrounds } from '../src/tasks/trigger/sets';
import { COURSE_RECIPE, drawSnr, EQ_RANGES, makeExample, NEGATIVE_ONLY, randomEq, TRAINING_RECIPE } from '../src/tasks/trigger/examples';
import { frontEnd, LABEL_SECONDS, labelTrack } from '../src/tasks/trigger/frontend';
import { buildTriggerModel, compileTriggerModel, DEFAULT_MODEL } from '../src/tasks/trigger/model';
import { detect, ensembleOf, frameMetrics, frrAt, joinTracks, JOIN_SMOOTHING, matchEvents, mergeTracks, PARTNER_AGAINST, PCEN_SURE, scoredEnds, scoreFeatures, scoreStream, smoothTrack, sweep } from '../src/tasks/trigger/score';
import { Flite, FLITE_VOICES, FliteVoiceName } from '../src/tasks/trigger/flite';
import { DEFAULT_POOL, poolFile, withoutWhispers } from '../src/tasks/trigger/pool';
import { randomVariant, Speaker, splitAtPauses, synthesizerFile, whispers } from '../src/tasks/trigger/speech';
import { finished, seqlab, spawnSeqlab } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-trigger-'));
process.env.SEQLAB_CACHE = path.join(dir, 'cache');
const fe = frontEnd('default');

/** A stand-in word: a tone burst of `seconds` (no speech synthesis needed). */
const burst = (seconds: number, hz: number) => Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / 16000));
const fakePool = { activates: [burst(0.6, 440), burst(0.8, 550)], negatives: [burst(0.4, 300), burst(0.5, 700)], negativeTexts: ['low', 'high'] };

describe('trigger data', () => {
  test('words are cut apart at pauses and trimmed to their sound', () => {
    const x = new Float32Array(16000 * 3);
    x.set(burst(0.5, 440), 1600); // 0.1-0.6 s
    x.set(burst(0.3, 440), 16000 * 1.5); // 1.5-1.8 s, after a 0.9 s pause
    x.set(burst(0.2, 440), 16000 * 1.9); // 0.1 s later: the same piece
    const pieces = splitAtPauses(x, 16000, 0.4).map(([a, b]) => [a / 16000, b / 16000]);
    expect(pieces).toHaveLength(2);
    expect(pieces[0][0]).toBeCloseTo(0.09, 2);
    expect(pieces[0][1]).toBeCloseTo(0.61, 2);
    expect(pieces[1][1]).toBeCloseTo(2.11, 2);
  });

  test('eSpeak says the same words the same way whatever the clock says (a seed gives one word pool)', async () => {
    // in a child process on the built code: espeak-ng is an ES module, which jest cannot import
    const speech = JSON.stringify(path.join(__dirname, '..', 'dist', 'src', 'tasks', 'trigger', 'speech.js'));
    const script = `
      const { Speaker } = require(${speech});
      const words = [{ text: 'activate', rate: 100, pitch: 0 }, { text: 'hello', rate: 90, pitch: 10 }];
      const say = async (sp, now) => { Date.now = () => now; return (await sp.speak({ accent: 'en-us', variant: 'whisper', speed: 170, pitch: 50 }, words)).map((w) => Array.from(w.samples)); };
      Speaker.load().then(async (sp) => console.log(JSON.stringify([await say(sp, 1.7e12), await say(sp, 1.7e12 + 86400017)])));`;
    const child = spawn(process.execPath, ['-e', script]);
    const { code, out } = await finished(child as unknown as Parameters<typeof finished>[0]);
    expect(code).toBe(0);
    const [a, b] = JSON.parse(out) as number[][][];
    expect(a).toHaveLength(2);
    expect(a[0].length).toBeGreaterThan(4000);
    expect(b).toEqual(a);
  });

  test('a varied voice: another voice, the same on every call, and the variant it came from is untouched afterwards; a whispering one has no pitch', async () => {
    const speech = JSON.stringify(path.join(__dirname, '..', 'dist', 'src', 'tasks', 'trigger', 'speech.js'));
    const script = `
      const { Speaker, randomVariant, whispers } = require(${speech});
      const words = [{ text: 'activate', rate: 100, pitch: 0 }];
      const voice = { accent: 'en-us', variant: 'm3', speed: 170, pitch: 50 };
      Speaker.load().then(async (sp) => {
        const say = async (v) => Array.from((await sp.speak(v, words))[0].samples);
        let k = 0;
        const base = await sp.variantText('m3');
        const custom = randomVariant(base, () => [0.9, 0.1, 0.5, 0.7][k++ % 4]);
        // the first of a simple stream's voices that whispers
        let x = 1, whisper;
        do whisper = randomVariant(base, () => (x = (x * 48271) % 2147483647) / 2147483647); while (!whispers(whisper));
        const plain = await say(voice);
        console.log(JSON.stringify([whispers(custom), whispers(base), whispers(await sp.variantText('caleb')), [plain, await say({ ...voice, custom }), await say({ ...voice, custom }), await say(voice), await say({ ...voice, custom: whisper })]]));
      });`;
    const child = spawn(process.execPath, ['-e', script]);
    const { code, out } = await finished(child as unknown as Parameters<typeof finished>[0]);
    expect(code).toBe(0);
    const [customWhispers, baseWhispers, calebWhispers, [plain, varied, again, plainAfter, whispered]] = JSON.parse(out) as [boolean, boolean, boolean, number[][]];
    expect([customWhispers, baseWhispers, calebWhispers]).toEqual([false, false, true]);
    expect(varied.length).toBeGreaterThan(4000);
    expect(varied).not.toEqual(plain);
    expect(again).toEqual(varied);
    expect(plainAfter).toEqual(plain);
    // voiced speech repeats itself at its pitch period, a whisper does not: the median over loud 40 ms frames (16 kHz)
    // of the normalized autocorrelation's peak at lags of 2.5-14 ms (70-400 Hz)
    const periodicity = (x: number[]) => {
      const peaks: number[] = [];
      const loud = Math.max(...x.map(Math.abs)) * 0.1;
      for (let s = 0; s + 640 < x.length; s += 320) {
        const f = x.slice(s, s + 640);
        if (Math.max(...f.map(Math.abs)) < loud) continue;
        const e = f.reduce((a, u) => a + u * u, 0);
        let best = 0;
        for (let l = 40; l < 230; l++) {
          let c = 0;
          for (let i = 0; i < 640 - l; i++) c += f[i] * f[i + l];
          best = Math.max(best, c / e);
        }
        peaks.push(best);
      }
      return peaks.sort((a, b) => a - b)[peaks.length >> 1];
    };
    expect(whispered.length).toBeGreaterThan(4000);
    expect(periodicity(plain)).toBeGreaterThan(0.5);
    expect(periodicity(varied)).toBeGreaterThan(0.5);
    expect(periodicity(whispered)).toBeLessThan(0.3);
  });

  test('Flite speaks in each of its voices: 16 kHz, trimmed to the sound, the same on every call, the female voice higher than the male ones', async () => {
    const flite = await Flite.load();
    const words = FLITE_VOICES.map((voice) => ({ voice: { voice, stretch: 1 }, text: 'activate' }));
    const said = Object.fromEntries((await flite.speak(words)).map((x, i) => [FLITE_VOICES[i], x!]));
    const [slower, again] = (await flite.speak([{ voice: { voice: 'rms', stretch: 1.4 }, text: 'activate' }, { voice: { voice: 'slt', stretch: 1 }, text: 'activate' }])) as Float32Array[];
    flite.close();
    for (const v of FLITE_VOICES) {
      const x = said[v];
      expect(x.length / 16000).toBeGreaterThan(0.35);
      expect(x.length / 16000).toBeLessThan(1.3);
      // trimmed: sound (above -50 dB of the word's level) in the first and last 30 ms, where Flite's own file has silence
      const rms = (a: number, b: number) => Math.sqrt(x.subarray(a, b).reduce((s, u) => s + u * u, 0) / (b - a));
      expect(rms(0, 480)).toBeGreaterThan(0.003 * rms(0, x.length));
      expect(rms(x.length - 480, x.length)).toBeGreaterThan(0.003 * rms(0, x.length));
    }
    expect(Array.from(again)).toEqual(Array.from(said.slt));
    expect(Array.from(said.rms)).not.toEqual(Array.from(said.slt));
    expect(slower.length / said.rms.length).toBeGreaterThan(1.2);
    expect(slower.length / said.rms.length).toBeLessThan(1.6);
    // median pitch by autocorrelation over voiced 40 ms frames, an estimate independent of Flite
    const pitch = (x: Float32Array) => {
      const found: number[] = [];
      for (let s = 0; s + 640 < x.length; s += 320) {
        const f = x.subarray(s, s + 640);
        if (f.reduce((a, u) => a + u * u, 0) / 640 < 1e-4) continue;
        let best = 0;
        let lag = 0;
        for (let l = 40; l < 230; l++) {
          let c = 0;
          for (let i = 0; i < 640 - l; i++) c += f[i] * f[i + l];
          if (c > best) [best, lag] = [c, l];
        }
        found.push(16000 / lag);
      }
      return found.sort((a, b) => a - b)[found.length >> 1];
    };
    expect(pitch(said.slt)).toBeGreaterThan(140);
    expect(pitch(said.rms)).toBeLessThan(130);
    expect(pitch(said.awb)).toBeLessThan(140);
  });

  test('when Flite\'s process dies it is started again and asked again, twice; then the words fail with one line saying so', async () => {
    const flite = await Flite.load();
    const child = () => (flite as unknown as { child: { kill(s: string): void } }).child;
    const word = [{ voice: { voice: 'rms' as const, stretch: 1 }, text: 'activate' }];
    const first = flite.speak(word);
    child().kill('SIGKILL');
    const [said] = await first; // answered by the process started in its place
    expect(said!.length).toBeGreaterThan(4000);
    const second = flite.speak(word);
    const killed = child();
    killed.kill('SIGKILL');
    while (child() === killed) await new Promise((r) => setTimeout(r, 5));
    child().kill('SIGKILL');
    await expect(second).rejects.toThrow(/^speech synthesis failed: Flite's process (was stopped by SIGKILL|failed)/);
    await expect(flite.speak(word)).rejects.toThrow(/Flite's process/);
    flite.close();
  });

  test('pool files name the synthesizers that made them', () => {
    const name = (flite: readonly string[]) => path.basename(poolFile(1, { ...DEFAULT_POOL, flite: flite as FliteVoiceName[] }, '/c'));
    expect(name(FLITE_VOICES)).toBe('trigger-words-v7-1-160x8+14.pool');
    expect(name(['kal', 'slt', 'rms', 'awb', 'kal16'])).toBe('trigger-words-v7-1-160x8+14.pool');
    expect(name([])).toBe('trigger-words-v7-1-160x8+14-espeak.pool');
    expect(name(['slt', 'awb'])).toBe('trigger-words-v7-1-160x8+14-flite-awb+slt.pool');
  });

  test('a pool of fewer voices is the first voices of a cached larger one, clip for clip as if synthesized alone; a synthesized pool is what its cache gives back; the held-out split synthesized alone is the whole pool\'s', async () => {
    // in a child process on the built code (espeak-ng is an ES module); tiny pools: 2 activates and 3 other words a voice
    const pool = JSON.stringify(path.join(__dirname, '..', 'dist', 'src', 'tasks', 'trigger', 'pool.js'));
    const [a, b, c] = [0, 1, 2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-pool-')));
    const script = `
      const { speechPools, heldOutPool } = require(${pool});
      const quiet = { info() {}, warn() {}, startPhase() {}, batch() {}, abort() {} };
      const size = (voices) => ({ voices, activatesPerVoice: 2, negativesPerVoice: 3, flite: ['rms'] });
      const digest = (p) => ({ activates: p.activates.map((c) => [c.length, c.reduce((s, v) => s + v, 0)]), negatives: p.negatives.map((c) => [c.length, c.reduce((s, v) => s + v, 0)]), texts: p.negativeTexts, voices: p.voiceOf, whispered: p.whispered });
      (async () => {
        const big = await speechPools(3, size(10), quiet, ${JSON.stringify(a)});
        const derived = await speechPools(3, size(5), quiet, ${JSON.stringify(a)});
        const first = await speechPools(3, size(5), quiet, ${JSON.stringify(b)});
        // as read back from its cache (16-bit), as the derived one is
        const alone = await speechPools(3, size(5), quiet, ${JSON.stringify(b)});
        // eval --held-out-sets: another seed's held-out voices without its training voices, and from a cached whole pool
        const held = [await heldOutPool(3, size(5), quiet, ${JSON.stringify(c)}), await heldOutPool(3, size(5), quiet, ${JSON.stringify(c)}), await heldOutPool(3, size(5), quiet, ${JSON.stringify(b)}), await heldOutPool(3, size(5), quiet, ${JSON.stringify(a)})].map(digest);
        console.log(JSON.stringify({ held, heldFiles: require('fs').readdirSync(${JSON.stringify(c)}), files: require('fs').readdirSync(${JSON.stringify(a)}), big: digest(big.train), derived: [digest(derived.train), digest(derived.test)], alone: [digest(alone.train), digest(alone.test)], first: [digest(first.train), digest(first.test)], bigTest: digest(big.test) }));
      })();`;
    const child = spawn(process.execPath, ['-e', script]);
    const { code, out } = await finished(child as unknown as Parameters<typeof finished>[0]);
    for (const dir of [a, b, c]) fs.rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.files).toEqual(['trigger-words-v7-3-10x2+3-flite-rms.pool']); // the 5-voice pool was not synthesized beside it
    expect(r.derived).toEqual(r.alone);
    // the run that synthesizes a pool gets the pool later runs read from its cache (16-bit samples), not the finer one it synthesized
    expect(r.first).toEqual(r.alone);
    expect(r.alone[0].activates.length).toBeGreaterThan(5);
    expect(r.alone[0].activates.length).toBeLessThan(r.big.activates.length);
    // Flite's words come after eSpeak's (its voices are spoken by another process meanwhile): voices out of order
    const v: number[] = r.big.voices.activates;
    expect(v.some((x, i) => i > 0 && x < v[i - 1])).toBe(true);
    expect(r.derived[1]).toEqual(r.alone[1]); // the held-out split: both 4 voices
    // which voices whisper is kept with the pool (and cut to the first voices with it)
    expect(Array.isArray(r.big.whispered) && r.big.whispered.every((v: number) => v >= 0 && v < 10)).toBe(true);
    // synthesized alone (then read from its own cache), read from the whole pool's cache, from a larger pool's: the same clips
    expect(r.heldFiles).toEqual(['trigger-words-v7-3-5x2+3-flite-rms-held-out.pool']);
    for (const h of r.held) expect(h).toEqual(r.alone[1]);
  });

  test('randomVariant moves formants within ±17% (one tract factor ±10%, then ±6% each), redraws the pitch range, keeps the rest', () => {
    const base = 'language variant\nname male3\ngender male\n\npitch 80 122\nformant 0 100 100 100\nformant 1  96  97 100\nformant 2  96  97 100\nformant 3 0 0 0\nconsonants 100\n';
    const rng = new Rng(3);
    const texts = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const text = randomVariant(base, () => rng.random());
      texts.add(text);
      const lines = text.split('\n');
      expect(lines[0]).toBe('language variant');
      expect(lines).toContain('gender male');
      expect(lines).toContain('consonants 100');
      expect(lines).toContain('formant 0 100 100 100');
      expect(lines).toContain('formant 3 0 0 0');
      expect(lines.filter((l) => l.startsWith('pitch '))).toHaveLength(1);
      const [lo, hi] = lines.find((l) => l.startsWith('pitch '))!.split(' ').slice(1).map(Number);
      expect(lo).toBeGreaterThanOrEqual(70);
      expect(lo).toBeLessThanOrEqual(190);
      expect(hi - lo).toBeGreaterThanOrEqual(15);
      expect(hi - lo).toBeLessThanOrEqual(70);
      for (const k of [1, 2]) {
        const [freq, height, width] = lines.find((l) => l.startsWith(`formant ${k} `))!.split(' ').slice(2).map(Number);
        expect(freq / 96).toBeGreaterThanOrEqual(0.84);
        expect(freq / 96).toBeLessThanOrEqual(1.17);
        expect(height / 97).toBeGreaterThanOrEqual(0.79);
        expect(height / 97).toBeLessThanOrEqual(1.21);
        expect(width / 100).toBeGreaterThanOrEqual(0.84);
        expect(width / 100).toBeLessThanOrEqual(1.16);
      }
    }
    expect(texts.size).toBe(50);
  });

  test('a fifth of randomVariant\'s voices whisper: Klatt synthesis, voicing off, breath 60-100, no flutter or roughness; whispers() tells them', () => {
    const base = 'language variant\nname caleb\nformant 1 96 97 100\nflutter 5\nroughness 3\nklatt 3\nvoicing 80\nbreath 5 5 0 0 0 0 0 0\nbreathw 150 150\n';
    const rng = new Rng(5);
    let whispering = 0;
    for (let i = 0; i < 1000; i++) {
      const lines = randomVariant(base, () => rng.random()).split('\n');
      if (!whispers(lines.join('\n'))) {
        expect(lines).toContain('voicing 80');
        expect(lines).toContain('klatt 3');
        continue;
      }
      whispering++;
      expect(lines.filter((l) => /^(klatt|voicing|breath|breathw|flutter|roughness)\b/.test(l)).sort()).toEqual([lines.find((l) => l.startsWith('breath '))!, 'klatt 6', 'voicing 0']);
      const breath = Number(lines.find((l) => l.startsWith('breath '))!.split(' ')[1]);
      expect(breath).toBeGreaterThanOrEqual(60);
      expect(breath).toBeLessThanOrEqual(100);
    }
    expect(whispering).toBeGreaterThan(160);
    expect(whispering).toBeLessThan(240);
    expect(whispers('voicing 0\n')).toBe(true);
    expect(whispers('voicing 0 1\nvoicing 10\n')).toBe(false);
  });

  test('withoutWhispers leaves out exactly the whispering voices\' clips, in order', () => {
    const clip = (v: number) => new Float32Array([v]);
    const pool = {
      activates: [0, 1, 2, 1, 3].map(clip), negatives: [2, 0, 3, 3].map(clip), negativeTexts: ['a', 'b', 'c', 'd'],
      voiceOf: { activates: [0, 1, 2, 1, 3], negatives: [2, 0, 3, 3] }, whispered: [1, 3],
    };
    const out = withoutWhispers(pool);
    expect(out.activates.map((c) => c[0])).toEqual([0, 2]);
    expect(out.negatives.map((c) => c[0])).toEqual([2, 0]);
    expect(out.negativeTexts).toEqual(['a', 'b']);
    expect(out.voiceOf).toEqual({ activates: [0, 2], negatives: [2, 0] });
    expect(withoutWhispers({ ...pool, whispered: [] })).toEqual({ ...pool, whispered: [] });
  });

  test('the course recipe: 0-4 activates and 0-2 other words, never overlapping, inside the 10 s', () => {
    const counts = new Set<number>();
    for (let s = 0; s < 40; s++) {
      const e = makeExample(fakePool, COURSE_RECIPE, new Rng(s));
      expect(e.audio.length).toBe(160000);
      expect(e.activates.length).toBeLessThanOrEqual(4);
      expect(e.negatives.length).toBeLessThanOrEqual(2);
      counts.add(e.activates.length);
      const all = [...e.activates, ...e.negatives].sort((a, b) => a.start - b.start);
      all.forEach((w, i) => {
        expect(w.start).toBeGreaterThanOrEqual(0);
        expect(w.end).toBeLessThanOrEqual(10);
        if (i) expect(w.start).toBeGreaterThan(all[i - 1].end);
      });
      expect(e.audio.every((v) => Math.abs(v) <= 1)).toBe(true);
    }
    expect([...counts].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  test('the random equalizer (training recipe): one band in each of its seven ranges, ±12 dB; it moves no word, and a recipe without it draws nothing for it', () => {
    const rng = new Rng(5);
    const gains: number[] = [];
    for (let k = 0; k < 200; k++) {
      const bands = randomEq(rng);
      expect(bands.length).toBe(7);
      bands.forEach((b, i) => {
        expect(b.hz).toBeGreaterThanOrEqual(EQ_RANGES[i][0]);
        expect(b.hz).toBeLessThanOrEqual(EQ_RANGES[i][1]);
        expect(b.q).toBeGreaterThanOrEqual(0.7);
        expect(b.q).toBeLessThanOrEqual(1.4);
        gains.push(b.db);
      });
    }
    expect(Math.min(...gains)).toBeGreaterThanOrEqual(-12);
    expect(Math.max(...gains)).toBeLessThanOrEqual(12);
    // the draws span the range: boosts and cuts of more than 10 dB both occur
    expect(Math.min(...gains)).toBeLessThan(-10);
    expect(Math.max(...gains)).toBeGreaterThan(10);
    for (let s = 0; s < 12; s++) {
      const plain = makeExample(fakePool, COURSE_RECIPE, new Rng(s));
      // eq 0 or absent: not one draw more, so the example is the same one
      expect(Array.from(makeExample(fakePool, { ...COURSE_RECIPE, eq: 0 }, new Rng(s)).audio)).toEqual(Array.from(plain.audio));
      const eq = makeExample(fakePool, { ...COURSE_RECIPE, eq: 1 }, new Rng(s));
      expect(eq.activates).toEqual(plain.activates);
      expect(eq.negatives).toEqual(plain.negatives);
      expect(eq.audio.every((v) => Number.isFinite(v) && Math.abs(v) <= 1)).toBe(true);
    }
    expect(TRAINING_RECIPE.eq).toBe(0.5);
  });

  test('SNRs: four-fifths from the lowest to 20 dB, the rest 20-40 dB; a lower one changes no word or place', () => {
    for (const lowest of [0, -5]) {
      const rng = new Rng(7);
      const snrs = Array.from({ length: 20000 }, () => drawSnr(rng, lowest));
      expect(Math.min(...snrs)).toBeGreaterThanOrEqual(lowest);
      expect(Math.max(...snrs)).toBeLessThan(40);
      const share = (a: number, b: number) => snrs.filter((v) => v >= a && v < b).length / snrs.length;
      expect(share(20, 40)).toBeCloseTo(0.2, 1);
      expect(share(lowest, lowest + 5)).toBeCloseTo((0.8 * 5) / (20 - lowest), 1);
    }
    let louder = 0;
    for (let s = 0; s < 6; s++) {
      const plain = makeExample(fakePool, COURSE_RECIPE, new Rng(s));
      expect(Array.from(makeExample(fakePool, { ...COURSE_RECIPE, lowestSnr: 0 }, new Rng(s)).audio)).toEqual(Array.from(plain.audio));
      const low = makeExample(fakePool, { ...COURSE_RECIPE, lowestSnr: -5 }, new Rng(s));
      expect(low.activates).toEqual(plain.activates);
      expect(low.negatives).toEqual(plain.negatives);
      // the same draws, mixed at another SNR where there is speech (the recipe's floor reaches the mix)
      if (plain.activates.length + plain.negatives.length && Array.from(low.audio).some((v, i) => v !== plain.audio[i])) louder++;
    }
    expect(louder).toBeGreaterThan(0);
  });

  test('the mel front end\'s high-pass: a 20 Hz rumble under a word barely moves what the model hears; without it, it moves it a lot', async () => {
    // a tone burst over a room's white noise; the rumble only while the word is said, as a handled microphone's
    const rng = new Rng(3);
    const word = Float32Array.from({ length: 16000 * 2 }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 700 * i) / 16000) * (i > 8000 && i < 20000 ? 1 : 0) + 0.01 * (2 * rng.random() - 1));
    const rumble = (i: number) => (i > 8000 && i < 20000 ? 0.03 * Math.sin((Math.PI * (i - 8000)) / 12000) ** 2 * Math.sin((2 * Math.PI * 20 * i) / 16000) : 0);
    const rumbled = word.map((v, i) => v + rumble(i));
    const change = async (hz: number) => {
      const f = frontEnd('default', 4, 'pcen', hz);
      const [a, b] = [await f.features(word), await f.features(rumbled)];
      expect(b.frames).toBe(a.frames);
      // the lowest band (20-108 Hz), where the rumble falls: its mean change over the frames
      return Array.from({ length: a.frames }, (_, t) => Math.abs(a.data[t * f.bands] - b.data[t * f.bands])).reduce((x, y) => x + y) / a.frames;
    };
    const plain = await change(0);
    const passed = await change(50);
    expect(plain).toBeGreaterThan(0.3);
    // the rumble 32 dB down, under the noise: a tenth of the change (0.043 against 0.46 when written)
    expect(passed).toBeLessThan(plain / 6);
    // the input is left as it was
    expect(rumbled[9000]).toBeCloseTo(word[9000] + rumble(9000), 6);
  });

  test('labels are 1 for the ~364 ms after each activate ends, on the model\'s own time grid', () => {
    const steps = fe.outputSteps(998);
    expect(steps).toBe(247); // one answer every 40 ms
    const y = labelTrack(fe, [2.0, 7.5], steps);
    const on = [...y.keys()].filter((j) => y[j] === 1).map((j) => fe.outputTime(j));
    expect(on.length).toBeGreaterThanOrEqual(2 * Math.floor(LABEL_SECONDS / 0.04));
    expect(on.length).toBeLessThanOrEqual(2 * Math.ceil(LABEL_SECONDS / 0.04));
    expect(Math.min(...on)).toBeGreaterThan(2.0);
    expect(Math.max(...on.filter((t) => t < 5))).toBeLessThanOrEqual(2.0 + LABEL_SECONDS);
    expect(Math.min(...on.filter((t) => t > 5))).toBeGreaterThan(7.5);
  });

  test('a label delay moves each label window later by that much, its length unchanged', () => {
    const steps = fe.outputSteps(998);
    const plain = labelTrack(fe, [2.0, 7.5], steps);
    const late = labelTrack(fe, [2.0, 7.5], steps, 0, 0.2);
    const on = (y: Float32Array) => [...y.keys()].filter((j) => y[j] === 1).map((j) => fe.outputTime(j));
    // 0.2 s is 5 answers of 40 ms: the same windows, 5 answers on
    expect(on(late).length).toBe(on(plain).length);
    on(late).forEach((t, i) => expect(t).toBeCloseTo(on(plain)[i] + 0.2, 6));
    expect(Math.min(...on(late))).toBeGreaterThan(2.2);
    expect(Math.max(...on(late).filter((t) => t < 5))).toBeLessThanOrEqual(2.2 + LABEL_SECONDS);
  });

  test('crops keep labels aligned with their audio and never start inside a word', () => {
    const ends = [1.0, 4.2, 8.8];
    const frames = 998;
    // features where frame f holds its own time, so a crop says where it came from
    const features = [Float32Array.from({ length: frames * 40 }, (_, i) => Math.floor(i / 40) * 0.01)];
    const set: FeatureSet = { features, frames, bands: 40, activates: [ends.map((e) => ({ start: e - 0.6, end: e }))], negatives: [[]] };
    const { xs, ys } = cropBatch(fe, set, 300, 16, 7);
    const x = xs.arraySync() as number[][][];
    const y = ys.arraySync() as number[][][];
    x.forEach((crop, b) => {
      const start = crop[0][0];
      expect(set.activates[0].some((w) => start > w.start + 1e-6 && start <= w.end + LABEL_SECONDS)).toBe(false);
      const want = labelTrack(fe, ends, fe.outputSteps(300), start);
      expect(y[b].map((v) => v[0])).toEqual(Array.from(want));
    });
    // with a label delay: crops start neither inside a word nor inside its later label window, labelled with the delay
    const late = cropBatch(fe, set, 300, 16, 8, { labelDelay: 0.3 });
    const lx = late.xs.arraySync() as number[][][];
    const ly = late.ys.arraySync() as number[][][];
    lx.forEach((crop, b) => {
      const start = crop[0][0];
      expect(set.activates[0].some((w) => start > w.start + 1e-6 && start <= w.end + 0.3 + LABEL_SECONDS)).toBe(false);
      expect(ly[b].map((v) => v[0])).toEqual(Array.from(labelTrack(fe, ends, fe.outputSteps(300), start, 0.3)));
    });
    expect(ly.some((crop) => crop.some((v) => v[0] === 1))).toBe(true);
  });
});

describe('trigger hard negatives', () => {
  test('a mined negative is cropped with where the model fired in the crop\'s second half, labelled 0', () => {
    const frames = 998;
    const features = [Float32Array.from({ length: frames * 40 }, (_, i) => Math.floor(i / 40) * 0.01)];
    const set: FeatureSet = { features, frames, bands: 40, activates: [[{ start: 1, end: 1.6 }]], negatives: [[]] };
    const hard = { set: { features: [features[0], features[0]], at: [0.5, 6.2] }, share: 1 };
    const { xs, ys } = cropBatch(fe, set, 300, 32, 3, { hard });
    const x = xs.arraySync() as number[][][];
    expect(Math.max(...(ys.dataSync() as Float32Array))).toBe(0);
    const starts = x.map((crop) => crop[0][0]);
    for (const start of starts) {
      // a peak at 0.5 s: the crop cannot start before 0; at 6.2 s: in the second half of its crop
      if (start === 0) continue;
      expect(6.2 - start).toBeGreaterThanOrEqual(1.5 - 0.04);
      expect(6.2 - start).toBeLessThanOrEqual(2.85 + 0.04);
    }
    expect(starts.some((s) => s === 0)).toBe(true);
    expect(starts.some((s) => s > 3)).toBe(true);
    // without hard negatives the crops are drawn as before
    const plain = cropBatch(fe, set, 300, 8, 3).xs.dataSync();
    expect(cropBatch(fe, set, 300, 8, 3, { hard: { set: { features: [], at: [] }, share: 0.5 } }).xs.dataSync()).toEqual(plain);
  });

  test('the vocal-tract warp reads every frame\'s bands at one factor per crop, in [1 − w, 1 + w]', () => {
    const frames = 400;
    const features = [Float32Array.from({ length: frames * 40 }, (_, i) => i % 40)]; // band b holds b
    const set: FeatureSet = { features, frames, bands: 40, activates: [[]], negatives: [[]] };
    const x = cropBatch(fe, set, 100, 64, 5, { warp: 0.2 }).xs.arraySync() as number[][][];
    let warped = 0;
    for (const crop of x) {
      const f = crop[0][1]; // band 1 reads band f
      if (Math.abs(f - 1) > 1e-6) warped++;
      expect(f).toBeGreaterThanOrEqual(0.8 - 1e-6);
      expect(f).toBeLessThanOrEqual(1.2 + 1e-6);
      for (const frame of crop) frame.forEach((v, b) => expect(v).toBeCloseTo(Math.min(39, b * f), 4));
    }
    expect(warped).toBeGreaterThan(16); // about half
    expect(warped).toBeLessThan(48);
  });

  test('mining keeps the share of new negatives the model scores highest, with where each peaked', async () => {
    await initBackend('wasm');
    const model = buildTriggerModel('default', 4, { ...DEFAULT_MODEL, filters: 8, units: 4 });
    const found = await mineHardNegatives(model, fe, await featureSet(fe, fakePool, NEGATIVE_ONLY, 10, 9, 'mining negatives'), 0.3);
    expect(found.features).toHaveLength(3);
    expect([...found.peaks].sort((a, b) => b - a)).toEqual(found.peaks);
    const again = await scoreFeatures(model, found.features, 998, 40);
    again.forEach((p, k) => {
      const j = p.indexOf(Math.max(...p));
      expect(p[j]).toBeCloseTo(found.peaks[k], 6);
      expect(found.at[k]).toBeCloseTo(fe.outputTime(j), 6);
    });
    model.dispose();
  });
});

describe('trigger training-set renewal', () => {
  const spec = { model: 'default' as const, stride: 4, features: 'pcen' as const, recipe: { ...COURSE_RECIPE, activates: [1, 2] as [number, number] }, count: 3, seed: 5 };
  // plain numbers: arrays that come from a worker thread are of another realm's Float32Array than jest's
  const firstFrames = (set: FeatureSet) => set.features.map((f) => Array.from(f.subarray(0, 400)));

  test('generation 0 is the set a run starts with; each later one is new examples from its own seed', async () => {
    const g0 = await generation(fakePool, spec, 0);
    expect(firstFrames(g0)).toEqual(firstFrames(await featureSet(fe, fakePool, spec.recipe, 3, 5, 'training examples')));
    const g1 = await generation(fakePool, spec, 1);
    expect(g1.features).toHaveLength(3);
    expect(firstFrames(g1)).not.toEqual(firstFrames(g0));
    expect(g1.activates).not.toEqual(g0.activates);
  });

  test('the set is replaced in place every `every` epochs, and the worker thread makes exactly what this thread makes', async () => {
    const workerFile = path.resolve(__dirname, '../dist/src/tasks/trigger/sets-worker.js');
    for (const file of [workerFile, null]) {
      const renewal = new Renewal(fakePool, spec, 2, 6, file);
      expect(renewal.inWorker).toBe(file !== null);
      const set = await generation(fakePool, spec, 0);
      const seen: number[] = [];
      const firsts: number[][] = [];
      for (let epoch = 1; epoch <= 6; epoch++) {
        seen.push(await renewal.prepare(epoch, set));
        firsts.push(firstFrames(set)[0]);
      }
      expect(renewal.inWorker).toBe(file !== null); // it did not fall back
      await renewal.close();
      expect(seen).toEqual([0, 0, 1, 1, 2, 2]);
      expect(firsts[1]).toEqual(firstFrames(await generation(fakePool, spec, 0))[0]);
      expect(firsts[2]).toEqual(firstFrames(await generation(fakePool, spec, 1))[0]);
      expect(firstFrames(set)).toEqual(firstFrames(await generation(fakePool, spec, 2)));
      expect(JSON.stringify(set.activates)).toBe(JSON.stringify((await generation(fakePool, spec, 2)).activates));
    }
  });

  test('the first set is made here and in the worker at once, and equals the one made here alone', async () => {
    const workerFile = path.resolve(__dirname, '../dist/src/tasks/trigger/sets-worker.js');
    for (const file of [workerFile, null]) {
      for (const [epoch, g] of [[1, 0], [5, 2]]) {
        const renewal = new Renewal(fakePool, spec, 2, 6, file);
        const set = await renewal.start(epoch);
        expect(renewal.inWorker).toBe(file !== null);
        expect(firstFrames(set)).toEqual(firstFrames(await generation(fakePool, spec, g)));
        expect(JSON.stringify(set.activates)).toBe(JSON.stringify((await generation(fakePool, spec, g)).activates));
        // the generation it holds is not made again
        const before = set.features[0];
        expect(await renewal.prepare(epoch, set)).toBe(g);
        expect(set.features[0]).toBe(before);
        await renewal.close();
      }
    }
  });

  test('a worker that dies holding chunks: one warning, and those chunks made here, the same examples', async () => {
    // a "worker" that claims three chunks of what it is asked for, then exits
    const dead = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-worker-')), 'dead.js');
    fs.writeFileSync(dead, "require('worker_threads').parentPort.on('message', ({ counter }) => { for (let i = 0; i < 3; i++) Atomics.add(counter, 0, 1); process.exit(3); });\n");
    // five chunks of 2 s examples
    const recipe = { ...spec.recipe, seconds: 2 };
    const job = { recipe: withoutBackgrounds(recipe), count: 80, seed: 7, name: 'training examples', range: [0, 80] as [number, number] };
    const renewal = new Renewal(fakePool, spec, 2, 6, dead);
    const warnings: string[] = [];
    const reporter = { warn: (m: string) => warnings.push(m), info() {}, startPhase() {}, batch() {}, abort() {} } as unknown as Parameters<Renewal['take']>[2];
    renewal.ahead('mining 3', job);
    const got = await renewal.take('mining 3', job, reporter);
    await renewal.close();
    expect(renewal.chunksMade.here).toBe(2); // the two it claimed; the worker's three made after it died
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/the worker making training examples stopped \(exited with code 3\); making the rest in the main thread/);
    expect(got.features).toHaveLength(80);
    expect(firstFrames(got)).toEqual(firstFrames(await featureSet(fe, fakePool, recipe, 80, 7, 'training examples')));
    expect(renewal.inWorker).toBe(false);
  });

  test('a set asked for ahead (hard-negative candidates) comes from the worker and equals the one made here', async () => {
    const workerFile = path.resolve(__dirname, '../dist/src/tasks/trigger/sets-worker.js');
    const job = { recipe: { ...NEGATIVE_ONLY, activates: [0, 0] as [number, number] }, count: 4, seed: 11, name: 'mining negatives', range: [0, 4] as [number, number] };
    const here = await featureSet(fe, fakePool, job.recipe, 4, 11, 'mining negatives');
    const renewal = new Renewal(fakePool, spec, 2, 6, workerFile);
    renewal.ahead('mining 3', job);
    const got = await renewal.take('mining 3', job);
    expect(renewal.inWorker).toBe(true);
    expect(firstFrames(got)).toEqual(firstFrames(here));
    expect(got.activates.every((a) => a.length === 0)).toBe(true);
    // not asked for ahead: made here, the same
    expect(firstFrames(await renewal.take('mining 4', job))).toEqual(firstFrames(here));
    await renewal.close();
  });

  test('a set the worker has not finished when it is needed is finished here too, chunk by chunk, the same examples', async () => {
    const workerFile = path.resolve(__dirname, '../dist/src/tasks/trigger/sets-worker.js');
    const big = { ...spec, count: 4 * CHUNK };
    const renewal = new Renewal(fakePool, big, 2, 6, workerFile);
    const job = { recipe: big.recipe, count: big.count, seed: big.seed, name: 'training examples', range: [0, big.count] as [number, number] };
    renewal.ahead('generation 0', job);
    // once the worker has sent its first chunk, it has most of the set still to make: this thread takes its share
    while (renewal.chunksMade.worker === 0) await new Promise((r) => setTimeout(r, 20));
    const got = await renewal.take('generation 0', job);
    await renewal.close();
    expect(renewal.chunksMade.here).toBeGreaterThan(0);
    expect(renewal.chunksMade.worker).toBeGreaterThan(0);
    expect(renewal.chunksMade.here + renewal.chunksMade.worker).toBe(4);
    const here = await generation(fakePool, big, 0);
    expect(got.features).toHaveLength(4 * CHUNK);
    expect(firstFrames(got)).toEqual(firstFrames(here));
    expect(JSON.stringify(got.activates)).toBe(JSON.stringify(here.activates));
    expect(got.frames).toBe(here.frames);
  });

  test('a run resumed at epoch 5 trains on generation 2, as the run that never stopped did', async () => {
    const renewal = new Renewal(fakePool, spec, 2, 6, null);
    const set = await generation(fakePool, spec, 0);
    expect(await renewal.prepare(5, set)).toBe(2);
    expect(firstFrames(set)).toEqual(firstFrames(await generation(fakePool, spec, 2)));
    await renewal.close();
  });
});

describe('trigger scoring', () => {
  const track = (values: number[]) => ({ probs: Float32Array.from(values), times: Float32Array.from(values, (_, j) => j * 0.1) });

  test('the threshold sweep also tries just above the negatives\' highest scores, which a fixed grid steps over', () => {
    // 10 s clips answered every 40 ms, silent but for the given peaks
    const clip = (peaks: [number, number][], ends: number[] = []) => {
      const probs = new Float32Array(250);
      for (const [t, p] of peaks) probs[Math.round(t / 0.04)] = p;
      return { track: { probs, times: Float32Array.from(probs, (_, j) => j * 0.04) }, ends, seconds: 10 };
    };
    const positives = { clips: [clip([[2.2, 0.99355], [6.2, 0.99362]], [2, 6])] };
    // one hour without the word: two clips with a near-certain false alarm
    const negatives = { clips: [clip([[5, 0.99312]]), clip([[5, 0.99321]]), ...Array.from({ length: 358 }, () => clip([]))] };
    const points = sweep(positives, negatives, 0.55);
    // the grid alone: 0.99 lets both false alarms through (2 per hour), 0.995 misses both words
    expect(points.find((p) => p.threshold === 0.99)!.faPerHour).toBeCloseTo(2, 6);
    expect(points.find((p) => p.threshold === 0.995)!.frr).toBe(1);
    const one = frrAt(points, 1);
    expect(one.frr).toBe(0);
    expect(one.threshold).toBeCloseTo(0.9932, 6);
    const half = frrAt(points, 0.5);
    expect(half.frr).toBe(0);
    expect(half.threshold).toBeCloseTo(0.9933, 6);
  });

  test('detect fires above the threshold and stays quiet for the refractory time', () => {
    const found = detect(track([0, 0.6, 0.9, 0.7, 0, 0, 0, 0.8, 0, 0, 0.2]), 0.5, 0.5);
    expect(found.map((d) => +d.time.toFixed(1))).toEqual([0.1, 0.7]);
    expect(found[0].score).toBeCloseTo(0.9, 6);
  });

  test('a detection within [end − 0.3 s, end + 1 s] is a hit, matched once; the rest are false alarms', () => {
    const at = (...times: number[]) => times.map((time) => ({ time, score: 1 }));
    expect(matchEvents(at(2.0, 2.5, 6.0, 9.9), [1.8, 9.0])).toEqual({ hits: 2, falseAlarms: 2 });
    expect(matchEvents(at(1.4), [1.8])).toEqual({ hits: 0, falseAlarms: 1 });
    // a detection between two words takes the nearer; the other word is still there for the next detection
    expect(matchEvents(at(2.21, 2.94), [1.31, 2.21, 2.89])).toEqual({ hits: 2, falseAlarms: 0 });
    // near a word the clip cut short: neither a hit nor a false alarm; far from it: a false alarm
    expect(matchEvents(at(9.9, 5.0), [2], [9.8])).toEqual({ hits: 0, falseAlarms: 1 });
  });

  test('activates that end less than the label time before the clip does are not scored', () => {
    expect(scoredEnds([1, 9.6, 9.7, 9.99], 10)).toEqual({ scored: [1, 9.6], cutShort: [9.7, 9.99] });
    const probs = new Float32Array(250);
    const clip = (hot: number[], ends: number[]) => {
      const p = probs.slice();
      for (const t of hot) p[Math.round(t / 0.04)] = 0.9;
      return { track: { probs: p, times: Float32Array.from(p, (_, j) => j * 0.04) }, ends, seconds: 10 };
    };
    // one word heard, one cut short (missed), one cut short and answered: 1 of 1 scored words found, no false alarm
    const points = sweep({ clips: [clip([3.2], [3]), clip([], [9.9]), clip([9.96], [9.8])] }, { clips: [clip([], [])] }, 0.55);
    const p = points.find((q) => q.threshold === 0.5)!;
    expect([p.words, p.cutShort, p.hits, p.frr, p.falseAlarmsInPositives]).toEqual([1, 2, 1, 0, 0]);
  });

  test('frame metrics beside the all-zeros baseline', () => {
    const m = frameMetrics([Float32Array.from([0.9, 0.1, 0.8, 0.2])], [Float32Array.from([1, 0, 0, 0])]);
    expect(m.accuracy).toBeCloseTo(0.75, 6);
    expect(m.zerosAccuracy).toBeCloseTo(0.75, 6);
    expect(m.f1).toBeCloseTo(2 / 3, 6);
  });
});

describe('trigger models', () => {
  beforeAll(() => initBackend('wasm'));

  test('the course model has the course\'s 523,329 weights', () => {
    expect(buildTriggerModel('course', 1).countParams()).toBe(523329);
  });

  test('Conv1D as patches + matMul computes what tf.conv1d computes', () => {
    const layer = conv1d({ filters: 5, kernelSize: 6, strides: 2, seed: 3 });
    const x = tf.randomNormal([2, 21, 4], 0, 1, 'float32', 4);
    const got = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights();
    const want = tf.add(tf.conv1d(x as tf.Tensor3D, kernel as tf.Tensor3D, 2, 'valid'), bias);
    expect(got.shape).toEqual(want.shape);
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5);
  });

  test('an ensemble scores the mean of its models\' probabilities', async () => {
    const [a, b] = [buildTriggerModel('default', 2), buildTriggerModel('default', 5)];
    const x = Float32Array.from({ length: 2 * 300 * 40 }, (_, i) => Math.sin(i * 0.37));
    const features = [x.subarray(0, 300 * 40), x.subarray(300 * 40)];
    const [pa, pb, pe] = await Promise.all([a, b, ensembleOf([a, b])].map((m) => scoreFeatures(m, features, 300, 40)));
    expect(Math.max(...pa[0].map((v, j) => Math.abs(v - pb[0][j])))).toBeGreaterThan(1e-3); // two different models
    for (let k = 0; k < 2; k++) pe[k].forEach((v, j) => expect(v).toBeCloseTo((pa[k][j] + pb[k][j]) / 2, 6));
  });

  test('tracks on two time grids join on the first\'s: read there linearly, log-odds weighted, the others alone outside its answers', () => {
    // PCEN's grid (every 40 ms from 0.15 s) and the embedding's (every 80 ms from 0.94 s); tracks of linear functions,
    // so reading between answers is exact: the merged value is the sigmoid of the weighted mean of the functions' log-odds
    const f = (t: number) => 0.1 + 0.05 * t;
    const g = (t: number) => 0.9 - 0.07 * t;
    const logit = (p: number) => Math.log(p / (1 - p));
    const atimes = Float32Array.from({ length: 240 }, (_, j) => 0.15 + 0.04 * j);
    const a = { times: atimes, probs: Float32Array.from(atimes, f) };
    const btimes = Float32Array.from({ length: 100 }, (_, j) => 0.94 + 0.08 * j);
    const b = { times: btimes, probs: Float32Array.from(btimes, g) };
    const m = mergeTracks([a, b], [0.75, 0.25]);
    expect(m.times).toBe(a.times);
    let both = 0;
    a.times.forEach((t, j) => {
      const inside = t >= 0.94 - 1e-6 && t <= 0.94 + 0.08 * 99 + 1e-6;
      const want = inside ? 1 / (1 + Math.exp(-(0.75 * logit(f(t)) + 0.25 * logit(g(t))))) : f(t);
      if (inside) both++;
      expect(m.probs[j]).toBeCloseTo(want, 5);
    });
    expect(both).toBeGreaterThan(190);
    // sure "no" from one front end holds a sure "yes" from the other down more than a mean would
    const yes = { times: Float32Array.of(1, 2), probs: Float32Array.of(0.999, 0.999) };
    const no = { times: Float32Array.of(1, 2), probs: Float32Array.of(0.001, 0.001) };
    expect(mergeTracks([no, yes], [0.75, 0.25]).probs[0]).toBeLessThan(0.75 * 0.001 + 0.25 * 0.999);
    // doubt: where the first track is above `sure`, another's "no" counts `against` of itself (an even "no" and "yes"
    // then leave the "yes" ahead); below it, or where the other says "yes", log-odds count in full
    const lo = logit(0.001);
    const doubt = { sure: 0.99, against: [1, 0.5] };
    const mid = { times: Float32Array.of(1, 2), probs: Float32Array.of(0.98, 0.98) };
    expect(mergeTracks([yes, no], [0.5, 0.5]).probs[0]).toBeCloseTo(0.5, 5);
    expect(mergeTracks([yes, no], [0.5, 0.5], doubt).probs[0]).toBeCloseTo(1 / (1 + Math.exp(-(0.5 * -lo + 0.25 * lo))), 5);
    expect(mergeTracks([mid, no], [0.5, 0.5], doubt).probs[0]).toBeCloseTo(1 / (1 + Math.exp(-(0.5 * logit(0.98) + 0.5 * lo))), 5);
    expect(mergeTracks([yes, yes], [0.5, 0.5], doubt).probs[0]).toBeCloseTo(0.999, 5);
    expect(mergeTracks([no, no], [0.5, 0.5], doubt).probs[0]).toBeCloseTo(0.001, 5);
    expect(mergeTracks([a], [1])).toBe(a);
  });

  test('the detector\'s join: the partner\'s "no" counts PARTNER_AGAINST where the PCEN model is above PCEN_SURE, then a moving mean', () => {
    // the PCEN model sure for 1 s then only fairly sure, on its 40 ms grid; the partner sure it is not, on its 80 ms grid
    const times = Float32Array.from({ length: 50 }, (_, j) => 0.15 + 0.04 * j);
    const pcen = { times, probs: Float32Array.from(times, (t) => (t < 1.15 ? 0.999 : 0.95)) };
    const partner = { times: Float32Array.from({ length: 30 }, (_, j) => 0.06 + 0.08 * j), probs: new Float32Array(30).fill(0.01) };
    const parts = [{ weight: 0.5, against: 1 }, { weight: 0.5, against: PARTNER_AGAINST }];
    const logit = (p: number) => Math.log(p / (1 - p));
    const joined = (pc: number, pa: number, against: number) => 1 / (1 + Math.exp(-(0.5 * logit(pc) + 0.5 * against * logit(pa))));
    const j = joinTracks([pcen, partner], parts);
    const k = Math.round(JOIN_SMOOTHING / 0.04);
    expect(PCEN_SURE).toBeLessThan(0.999);
    expect(PCEN_SURE).toBeGreaterThan(0.95);
    // well inside each stretch the moving mean is of equal answers
    expect(j.probs[k + 5]).toBeCloseTo(joined(0.999, 0.01, PARTNER_AGAINST), 5);
    expect(j.probs[45]).toBeCloseTo(joined(0.95, 0.01, 1), 5);
    expect(j.probs[k + 5]).toBeGreaterThan(0.5); // the PCEN model's sure "yes" survives the partner's "no"
    expect(j.probs[45]).toBeLessThan(0.5);
    // the first answer alone: no mean yet; a single front end's track is used as it is
    expect(j.probs[0]).toBeCloseTo(joined(0.999, 0.01, PARTNER_AGAINST), 5);
    expect(joinTracks([pcen], [parts[0]])).toBe(pcen);
  });

  test('smoothTrack: the causal mean of the answers in the last span, fewer at the start; a lone spike is spread, not fired on', () => {
    const rng = new Rng(5);
    const times = Float32Array.from({ length: 60 }, (_, j) => 0.15 + 0.04 * j);
    const probs = Float32Array.from(times, () => rng.random());
    const s = smoothTrack({ probs, times }, 0.2);
    expect(s.times).toBe(times);
    // 0.2 s on a 40 ms grid: this answer and the 4 before it (a direct mean, not a running sum)
    probs.forEach((_, j) => {
      const from = Math.max(0, j - 4);
      let sum = 0;
      for (let q = from; q <= j; q++) sum += probs[q];
      expect(s.probs[j]).toBeCloseTo(sum / (j - from + 1), 5);
    });
    // a 100 ms grid: 0.2 s is 2 answers
    const coarse = { times: Float32Array.of(1, 1.1, 1.2, 1.3), probs: Float32Array.of(0, 0, 0.9, 0) };
    smoothTrack(coarse, 0.2).probs.forEach((p, j) => expect(p).toBeCloseTo([0, 0, 0.45, 0.45][j], 6));
    // one answer of 0.9 among zeros stays under 0.2 once spread over 5 answers
    const spike = { times, probs: Float32Array.from(times, (_, j) => (j === 30 ? 0.9 : 0)) };
    expect(Math.max(...smoothTrack(spike, 0.2).probs)).toBeCloseTo(0.18, 5);
    // a span shorter than one answer, or one answer: the track itself
    expect(smoothTrack({ probs, times }, 0.01).probs).toBe(probs);
    const one = { times: Float32Array.of(2), probs: Float32Array.of(0.7) };
    expect(smoothTrack(one, 0.2)).toBe(one);
  });

  test('a long signal is scored in windows: one answer every 40 ms, none missing or repeated', async () => {
    const model = buildTriggerModel('default', 2);
    const x = Float32Array.from({ length: 16000 * 25 }, (_, i) => 0.1 * Math.sin(i / 7));
    const track = await scoreStream(model, fe, x.length, (s, n) => x.subarray(s, s + n));
    const gaps = Array.from(track.times.slice(1), (t, j) => t - track.times[j]);
    expect(Math.max(...gaps)).toBeCloseTo(0.04, 5);
    expect(Math.min(...gaps)).toBeCloseTo(0.04, 5);
    expect(track.times[0]).toBeCloseTo(fe.outputTime(0), 5);
    expect(track.times[track.times.length - 1]).toBeGreaterThan(24.9);
    // the first window (no warm-up) is exactly the model on those 10 s alone
    const f = await fe.features(x.subarray(0, 160000));
    const [alone] = await scoreFeatures(model, [f.data], f.frames, 40);
    const n = alone.length;
    expect(Math.max(...Array.from(alone, (v, j) => Math.abs(v - track.probs[j])).slice(0, n - 1))).toBeLessThan(1e-5);
  });
});

describe('trigger from the command line', () => {
  const ck = path.join(dir, 'ck');
  const clip = path.join(dir, 'example.wav');

  test('train (tiny), sample, detect, eval: the whole path runs and writes what it says', async () => {
    // --no-partner: the PCEN model alone (its partner on the speech embedding is tested in embedding.test.ts)
    const t = await finished(spawnSeqlab('train', 'trigger', '--examples', '16', '--epochs', '1', '--voices', '4', '--flite', 'rms,kal', '--batch-size', '8', '--lowest-snr', '-5', '--checkpoint', ck, '--no-partner', '--json'));
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const result = JSON.parse(t.out.trim().split('\n').pop()!);
    expect(result.model).toBe('default');
    const saved = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8')).hyperparameters;
    expect(saved.flite).toEqual(['rms', 'kal']);
    // the recipe's SNR floor and the front end's high-pass (none by default) are the checkpoint's
    expect([saved.lowestSnr, saved.highPassHz]).toEqual([-5, 0]);
    expect(fs.existsSync(path.join(ck, 'embedding'))).toBe(false);

    const s = await finished(spawnSeqlab('sample', 'trigger', '--out', clip));
    expect(s.code).toBe(0);
    const labels = JSON.parse(fs.readFileSync(clip.replace(/wav$/, 'json'), 'utf8'));
    expect(labels.activates.length).toBeGreaterThanOrEqual(1);
    expect(labels.label.values).toHaveLength(247);
    expect(fs.statSync(clip).size).toBe(44 + 160000 * 2);

    const out = path.join(dir, 'chimed.wav');
    const plot = path.join(dir, 'det.png');
    const d = await seqlab('detect', 'trigger', clip, '--checkpoint', ck, '--out', out, '--plot', plot, '--threshold', '0.01', '--json');
    expect(d.code).toBe(0);
    const r = JSON.parse(d.out.trim().split('\n').pop()!);
    expect(r.files[0].file).toBe(clip);
    expect(r.files[0].duration).toBeCloseTo(10, 6);
    expect(r.files[0].detections.length).toBeGreaterThan(0); // threshold 0.01: an untrained model fires somewhere
    for (const det of r.files[0].detections) expect(det.time).toBeGreaterThanOrEqual(0);
    expect(fs.statSync(out).size).toBe(44 + 160000 * 2);
    expect(fs.readFileSync(plot).subarray(1, 4).toString()).toBe('PNG');

    // --ensemble: the mean of a model with itself is the model (same detections and scores)
    const twice = await seqlab('detect', 'trigger', clip, '--checkpoint', ck, '--ensemble', ck, '--no-audio', '--no-plot', '--threshold', '0.01', '--json');
    expect(twice.code).toBe(0);
    const tr = JSON.parse(twice.out.trim().split('\n').pop()!);
    expect(tr.ensemble).toEqual([ck, ck]);
    expect(tr.files[0].detections).toEqual(r.files[0].detections);
    // a model on other features joins through its own front end: log-mel and PCEN answers on the same 40 ms grid
    const other = path.join(dir, 'ck-log-mel');
    fs.cpSync(ck, other, { recursive: true });
    const meta = JSON.parse(fs.readFileSync(path.join(other, 'seqlab.json'), 'utf8'));
    fs.writeFileSync(path.join(other, 'seqlab.json'), JSON.stringify({ ...meta, hyperparameters: { ...meta.hyperparameters, features: 'log-mel' } }));
    const mixed = await seqlab('detect', 'trigger', clip, '--checkpoint', ck, '--ensemble', other, '--no-audio', '--no-plot', '--threshold', '0.01');
    expect(mixed.code).toBe(0);
    expect(mixed.err).toMatch(/ensemble: 2 models \(1 on pcen \(stride \d+\), 1 on log-mel \(stride \d+\); each front end's mean, joined by log-odds\)/);
    expect(mixed.out).toMatch(/example\.wav: 10s of audio, \d+ activate/);
    // a checkpoint that is not there: one line, nothing written
    const missing = await seqlab('detect', 'trigger', clip, '--checkpoint', ck, '--ensemble', path.join(dir, 'nowhere'), '--out', path.join(dir, 'never.wav'), '--no-plot');
    expect(missing.code).toBe(1);
    expect(missing.err.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, 'never.wav'))).toBe(false);

    // eval on a folder of the user's clips with labels.json
    const data = path.join(dir, 'real');
    fs.mkdirSync(data);
    fs.copyFileSync(clip, path.join(data, 'a.wav'));
    fs.writeFileSync(path.join(data, 'b.wav'), encodeWav16(new Float32Array(16000 * 5), 16000));
    fs.writeFileSync(path.join(data, 'labels.json'), JSON.stringify({ 'a.wav': labels.activates.map((w: { end: number }) => w.end), 'b.wav': [] }));
    const e = await seqlab('eval', 'trigger', '--data', data, '--checkpoint', ck, '--no-plot', '--json');
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    const er = JSON.parse(e.out.trim().split('\n').pop()!);
    expect(er.activates).toBe(labels.activates.length);
    expect(er.sweep.length).toBeGreaterThan(10);
    expect(typeof er.frrAt1FaPerHour).toBe('number');

    // eval on clips in a Flite voice the model never heard
    const f = await seqlab('eval', 'trigger', '--flite', 'slt', '--clips', '4', '--hours', '0.02', '--checkpoint', ck, '--no-plot', '--json');
    expect(f.code).toBe(0);
    const fr = JSON.parse(f.out.trim().split('\n').pop()!);
    expect(fr.data).toBe("synthetic audio in Flite's slt voice (a speaker never used in training, which had Flite's rms, kal)");
    expect(fr.activates).toBeGreaterThanOrEqual(4);
    expect(fr.negativeHours).toBeCloseTo(0.022, 3);

    // --held-out-sets 2: this seed's held-out voices and seed 2's, pooled; each set is what eval of a copy trained "with seed 2" measures
    // (child processes: seed 2's voices are synthesized, and eSpeak NG is an ES module jest's VM does not load)
    const two = await finished(spawnSeqlab('eval', 'trigger', '--held-out-sets', '2', '--clips', '3', '--hours', '0.01', '--checkpoint', ck, '--no-plot', '--json'));
    expect(two.code).toBe(0);
    const tw = JSON.parse(two.out.trim().split('\n').pop()!);
    const seed2 = path.join(dir, 'ck-seed2');
    fs.cpSync(ck, seed2, { recursive: true });
    const m2 = JSON.parse(fs.readFileSync(path.join(seed2, 'seqlab.json'), 'utf8'));
    expect(m2.seed).toBe(1);
    fs.writeFileSync(path.join(seed2, 'seqlab.json'), JSON.stringify({ ...m2, seed: 2 }));
    const [own, seed2Run] = await Promise.all([ck, seed2].map((c) => finished(spawnSeqlab('eval', 'trigger', '--clips', '3', '--hours', '0.01', '--checkpoint', c, '--no-plot', '--json'))));
    const [o1, o2] = [own, seed2Run].map((r) => JSON.parse(r.out.trim().split('\n').pop()!));
    expect(tw.data).toBe('held-out synthetic audio (voices never used in training; 2 sets of held-out voices, seeds 1-2)');
    expect(tw.clips).toBe(6);
    expect(tw.negativeHours).toBeCloseTo(o1.negativeHours + o2.negativeHours, 6);
    expect(tw.activates + tw.activatesCutShort).toBe(o1.activates + o1.activatesCutShort + o2.activates + o2.activatesCutShort);
    expect(tw.heldOutSets.map((r: { seed: number }) => r.seed)).toEqual([1, 2]);
    expect(tw.heldOutSets).toEqual([o1, o2].map((o, k) => ({ seed: k + 1, frrAt1FaPerHour: o.frrAt1FaPerHour, thresholdAt1FaPerHour: o.thresholdAt1FaPerHour })));
    // pooled: at each threshold both single runs swept, the false alarms per hour are the two sets' mean (equal hours) and
    // the activates missed are the two sets' misses together (the same clips, heard the same way)
    type Point = { threshold: number; faPerHour: number; frr: number };
    const at = (r: { sweep: Point[] }, t: number) => r.sweep.find((p) => p.threshold === t);
    let compared = 0;
    const frrs = new Set<number>();
    for (const p of tw.sweep as Point[]) {
      const [a, b] = [at(o1, p.threshold), at(o2, p.threshold)];
      if (!a || !b) continue;
      expect(p.faPerHour).toBeCloseTo((a.faPerHour + b.faPerHour) / 2, 2);
      expect(p.frr * tw.activates).toBeCloseTo(a.frr * o1.activates + b.frr * o2.activates, 1);
      frrs.add(p.frr);
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
    expect(frrs.size).toBeGreaterThan(1); // the misses change along the sweep: the check above compares something

    // eval on the user's recordings (the course's raw_data layout), mixed the way training mixes
    const { readWav } = await import('../src/audio/wav');
    const audio = readWav(clip).samples;
    const cut = (w: { start: number; end: number }) => audio.slice(Math.round(w.start * 16000), Math.round(w.end * 16000));
    const raw = path.join(dir, 'raw_data');
    for (const sub of ['activates', 'negatives', 'backgrounds']) fs.mkdirSync(path.join(raw, sub), { recursive: true });
    fs.writeFileSync(path.join(raw, 'activates', '1.wav'), encodeWav16(cut(labels.activates[0]), 16000));
    fs.writeFileSync(path.join(raw, 'activates', '2.wav'), encodeWav16(cut(labels.activates[labels.activates.length - 1]), 16000));
    fs.writeFileSync(path.join(raw, 'negatives', '1.wav'), encodeWav16(audio.slice(0, 8000), 16000));
    fs.writeFileSync(path.join(raw, 'backgrounds', '1.wav'), encodeWav16(audio.slice(0, 48000), 16000));
    const folders = ['--activates', path.join(raw, 'activates'), '--negatives', path.join(raw, 'negatives'), '--backgrounds', path.join(raw, 'backgrounds')];
    // with the user's activates and other words, no synthesized word is heard: none is synthesized or cached
    const emptyCache = fs.mkdtempSync(path.join(dir, 'cache-'));
    const cacheBefore = process.env.SEQLAB_CACHE;
    process.env.SEQLAB_CACHE = emptyCache;
    let u: Awaited<ReturnType<typeof seqlab>>;
    try {
      u = await seqlab('eval', 'trigger', ...folders, '--clips', '3', '--hours', '0.01', '--checkpoint', ck, '--no-plot', '--json');
    } finally {
      if (cacheBefore === undefined) delete process.env.SEQLAB_CACHE;
      else process.env.SEQLAB_CACHE = cacheBefore;
    }
    expect(u.code).toBe(0);
    expect(u.err).not.toMatch(/synthesizing/);
    expect(fs.readdirSync(emptyCache)).toEqual([]);
    const ur = JSON.parse(u.out.trim().split('\n').pop()!);
    expect(ur.data).toBe(`your recordings, mixed as training mixes: 2 activates from ${path.join(raw, 'activates')}; 1 other words from ${path.join(raw, 'negatives')}; 1 backgrounds from ${path.join(raw, 'backgrounds')} (behind ~60% of the clips)`);
    expect(ur.activates + ur.activatesCutShort).toBeGreaterThanOrEqual(3);
    expect(ur.activates + ur.activatesCutShort).toBeLessThanOrEqual(12);
    // --data is the user's clips as they are: with --activates it is refused in one line, nothing written
    const both = await seqlab('eval', 'trigger', '--data', data, ...folders.slice(0, 2), '--checkpoint', ck, '--plot', path.join(dir, 'never.png'));
    expect(both.code).toBe(2);
    expect(both.err.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toEqual([expect.stringMatching(/--data evaluates your labelled clips as they are: leave out --activates/)]);
    expect(fs.existsSync(path.join(dir, 'never.png'))).toBe(false);
    // more held-out voices do not go with the user's words: refused before anything is read
    const sets = await seqlab('eval', 'trigger', '--held-out-sets', '2', ...folders, '--checkpoint', ck, '--no-plot');
    expect(sets.code).toBe(2);
    expect(sets.err.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toEqual(['seqlab: --held-out-sets draws more held-out eSpeak voices: leave out --activates and --negatives and --backgrounds (--clips and --hours give more of their clips)']);
  }, 240000);

  test('--flite takes all, none or Flite\'s voices, and says which when it is something else', async () => {
    const r = await seqlab('train', 'trigger', '--flite', 'rms,bob', '--checkpoint', path.join(dir, 'never'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--flite rms,bob: give all, none, or Flite voices from rms, slt, awb, kal16, kal/);
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  test('--high-pass is refused for models that do not hear mel features, in one line, before anything is made', async () => {
    for (const [flag, value] of [['--features', 'embedding'], ['--model', 'course']]) {
      const r = await seqlab('train', 'trigger', flag, value, '--high-pass', '50', '--checkpoint', path.join(dir, 'never'), '--quiet');
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(new RegExp(`--high-pass filters the mel features' audio: leave it out for ${flag} ${value}`));
      expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
    }
  });

  test('--resume continues a trigger checkpoint (the compiled loss survives the save)', async () => {
    const r = await seqlab('train', 'trigger', '--epochs', '2', '--resume', '--checkpoint', ck, '--quiet', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8'));
    expect(meta.epoch).toBe(2);
    expect(meta.history).toHaveLength(2);
  }, 60000);

  test.each([
    ['not a WAV', (f: string) => fs.writeFileSync(f, 'hello, this is text'), /is not a WAV file/],
    ['empty', (f: string) => fs.writeFileSync(f, ''), /is empty/],
    ['truncated', (f: string) => fs.writeFileSync(f, encodeWav16(new Float32Array(16000), 16000).subarray(0, 20000)), /is truncated/],
    ['0 samples', (f: string) => fs.writeFileSync(f, encodeWav16(new Float32Array(0), 16000)), /holds no audio/],
    ['a folder', (f: string) => fs.mkdirSync(f), /is a folder, not a file|EISDIR/],
    ['missing', () => undefined, /no such file/],
  ])('detect on a bad input (%s): one line, exit 1, nothing written', async (_name, make, message) => {
    const f = path.join(dir, `bad-${_name.replace(/\W/g, '')}.wav`);
    make(f);
    const before = fs.readdirSync(process.cwd()).length;
    const r = await seqlab('detect', 'trigger', f, '--checkpoint', ck);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toHaveLength(1);
    expect(r.err).toMatch(message);
    expect(fs.readdirSync(process.cwd()).length).toBe(before);
  });

  test('a default-model checkpoint from before PCEN (no features field) is heard with log-mel, as it was trained; one from before the front end\'s high-pass (no highPassHz) hears all', async () => {
    await initBackend('wasm');
    const model = buildTriggerModel('default', 3);
    compileTriggerModel(model, 1e-3);
    const base = { model: 'default', examples: 0, epochs: 0, batchSize: 0, cropSeconds: 3, lr: 0, freqMask: 0, stride: 4, units: 128, voices: 4, activates: null, negatives: null, backgrounds: null };
    const f = path.join(dir, 'tone.wav');
    // a tone that swells, with a 20 Hz rumble under its loud part
    fs.writeFileSync(f, encodeWav16(Float32Array.from({ length: 16000 * 2 }, (_, i) => (0.1 * Math.sin(i / 3) + 0.05 * Math.sin((2 * Math.PI * 20 * i) / 16000)) * (i > 12000 ? 1 : 0.05)), 16000));
    const scores = async (features?: string, highPassHz?: number) => {
      const where = path.join(dir, `ck-${features ?? 'old'}-${highPassHz ?? 'all'}`);
      const hyperparameters = { ...base, ...(features ? { features } : {}), ...(highPassHz !== undefined ? { highPassHz } : {}) };
      await saveCheckpoint(where, model, { task: 'trigger', epoch: 0, seed: 1, hyperparameters, vocabularies: {}, history: [], trainSeconds: 0, backend: 'wasm' });
      const r = await seqlab('detect', 'trigger', f, '--checkpoint', where, '--no-audio', '--no-plot', '--threshold', '0', '--refractory-ms', '0', '--json');
      expect(r.code).toBe(0);
      return JSON.parse(r.out.trim().split('\n').pop()!).files[0].detections.map((d: { score: number }) => d.score) as number[];
    };
    const old = await scores();
    expect(old.length).toBeGreaterThan(10);
    expect(await scores('log-mel')).toEqual(old);
    const withPcen = await scores('pcen');
    expect(withPcen).toHaveLength(old.length);
    expect(Math.max(...withPcen.map((v, i) => Math.abs(v - old[i])))).toBeGreaterThan(1e-3);
    expect(await scores('pcen', 0)).toEqual(withPcen);
    const passed = await scores('pcen', 50);
    expect(passed).toHaveLength(old.length);
    expect(Math.max(...passed.map((v, i) => Math.abs(v - withPcen[i])))).toBeGreaterThan(1e-3);
  }, 60000);

  test('a course-model checkpoint (trained elsewhere) runs detect here: 44.1 kHz spectrogram, 10 s windows', async () => {
    await initBackend('wasm');
    const model = buildTriggerModel('course', 1);
    compileTriggerModel(model, 1e-3);
    const courseCk = path.join(dir, 'course-ck');
    const hyperparameters = { model: 'course', examples: 0, epochs: 0, batchSize: 0, cropSeconds: 10, lr: 0, freqMask: 0, voices: 4, activates: null, negatives: null, backgrounds: null };
    await saveCheckpoint(courseCk, model, { task: 'trigger', epoch: 0, seed: 1, hyperparameters, vocabularies: {}, history: [], trainSeconds: 0, backend: 'node' });
    const f = path.join(dir, 'short.wav');
    fs.writeFileSync(f, encodeWav16(Float32Array.from({ length: 22050 * 3 }, (_, i) => 0.1 * Math.sin(i / 3)), 22050));
    const r = await seqlab('detect', 'trigger', f, '--checkpoint', courseCk, '--no-audio', '--no-plot', '--threshold', '0', '--refractory-ms', '0', '--json');
    expect(r.code).toBe(0);
    const times = JSON.parse(r.out.trim().split('\n').pop()!).files[0].detections.map((d: { time: number }) => d.time);
    // every answer of the course's grid (10/1375 s apart) inside the 3 s file, none from the padding after it
    expect(times.length).toBe(Math.ceil((3 * 1375) / 10));
    expect(times[1] - times[0]).toBeCloseTo(10 / 1375, 2);
  }, 60000);

  test('--model course is refused on wasm with the backends that can train it', async () => {
    const r = await seqlab('train', 'trigger', '--model', 'course', '--checkpoint', path.join(dir, 'course'), '--backend', 'wasm');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--model course cannot train on the wasm backend.*--backend webgpu.*tfjs-node/);
  });
});

describe('synthesizer packages', () => {
  it('finds an installed synthesizer file and names a missing package in one line', () => {
    expect(fs.existsSync(synthesizerFile('espeak-ng/dist/espeak-ng.js', 'espeak-ng'))).toBe(true);
    expect(() => synthesizerFile('no-such-synth/x.wasm', 'no-such-synth')).toThrow(/needs the no-such-synth package, which is not installed: run npm install$/);
  });
});
