/**
 * From a lead sheet to something to listen to: a comping part (shell voicings: root below, 3rd
 * and 7th around middle C, in a Charleston rhythm), a walking bass, swing applied to the eighths,
 * and a small synthesizer (additive voices with envelopes) that renders notes to samples, so no
 * SoundFont is needed. Pure functions: no tfjs, no task imports.
 */
import { ChordSpan } from './corpus';
import { Note } from './midi';

const pc = (p: number) => ((p % 12) + 12) % 12;

/** The pitch of class `cls` nearest to `around`. */
function near(cls: number, around: number): number {
  const base = around - pc(around) + pc(cls);
  return [base - 12, base, base + 12].reduce((a, b) => (Math.abs(b - around) < Math.abs(a - around) ? b : a));
}

/** Comping and a walking bass for `chords`. */
export function accompaniment(chords: readonly ChordSpan[]): { comping: Note[]; bass: Note[] } {
  const comping: Note[] = [];
  const bass: Note[] = [];
  chords.forEach((span, i) => {
    const c = span.chord;
    if (c.root < 0) return;
    const third = c.pitches[1];
    const seventh = c.pitches[3] ?? c.pitches[2];
    const voicing = [near(c.root, 50), near(third, 62), near(seventh, 66)];
    // Charleston: on the chord's first beat, and the "and" of its second when it lasts a bar
    const hits = span.duration >= 4 ? [[0, 1], [1.5, 1.5]] : [[0, Math.min(1.5, span.duration)]];
    for (const [at, length] of hits) for (const pitch of voicing) comping.push({ pitch, start: span.start + at, duration: length, velocity: at ? 58 : 66 });
    // walking bass: root on the downbeat, chord tones after, a half step into the next chord's root
    const nextRoot = chords[i + 1]?.chord.root ?? c.root;
    let p = near(c.root, 40);
    for (let beat = 0; beat < span.duration; beat++) {
      if (beat > 0) {
        const last = beat === span.duration - 1 && i + 1 < chords.length;
        p = last ? near(nextRoot, p) + (nextRoot >= 0 && pc(nextRoot - c.root) === 5 ? -1 : 1) : near(c.pitches[beat % c.pitches.length], p);
        while (p < 33) p += 12;
        while (p > 52) p -= 12;
      }
      bass.push({ pitch: p, start: span.start + beat, duration: 0.95, velocity: beat ? 80 : 92 });
    }
  });
  return { comping, bass };
}

/**
 * Swing: an eighth on the off-beat moves to `ratio` of the beat (0.5: straight; 0.66: the usual
 * 2:1 feel). Times in quarters, piecewise linear within each beat.
 */
export function swingTime(t: number, ratio: number): number {
  const beat = Math.floor(t + 1e-9);
  const f = t - beat;
  return beat + (f <= 0.5 ? (f / 0.5) * ratio : ratio + ((f - 0.5) / 0.5) * (1 - ratio));
}

export type Voice = 'lead' | 'keys' | 'bass';

export interface RenderPart {
  notes: readonly Note[];
  voice: Voice;
  /** linear gain */
  gain: number;
}

/** Harmonic amplitudes and decay per voice: a mellow lead, an electric-piano-like comp, a plucked bass. */
const VOICES: Record<Voice, { harmonics: number[]; attack: number; decay: number; release: number }> = {
  lead: { harmonics: [1, 0.45, 0.25, 0.12, 0.06], attack: 0.012, decay: 1.8, release: 0.06 },
  keys: { harmonics: [1, 0.3, 0.08, 0.1], attack: 0.004, decay: 1.1, release: 0.12 },
  bass: { harmonics: [1, 0.55, 0.2, 0.08], attack: 0.004, decay: 0.9, release: 0.05 },
};

/** Renders parts to mono samples at `sampleRate`: `tempo` quarters per minute, swing `swing` (0.5: straight). */
export function renderAudio(parts: readonly RenderPart[], tempo: number, swing: number, sampleRate = 22050): Float32Array {
  const secondsPerQuarter = 60 / tempo;
  let end = 0;
  for (const p of parts) for (const n of p.notes) end = Math.max(end, swingTime(n.start + n.duration, swing));
  const out = new Float32Array(Math.ceil((end * secondsPerQuarter + 0.6) * sampleRate));
  for (const part of parts) {
    const v = VOICES[part.voice];
    for (const n of part.notes) {
      const start = swingTime(n.start, swing) * secondsPerQuarter;
      const length = Math.max(0.03, (swingTime(n.start + n.duration, swing) - swingTime(n.start, swing)) * secondsPerQuarter * 0.95);
      const hz = 440 * Math.pow(2, (n.pitch - 69) / 12);
      const amp = part.gain * (n.velocity / 127);
      const from = Math.round(start * sampleRate);
      const count = Math.round((length + v.release) * sampleRate);
      // each harmonic by a rotating phasor (no Math.sin per sample), upper ones fading faster
      for (let h = 0; h < v.harmonics.length; h++) {
        const f = hz * (h + 1);
        if (f > sampleRate / 2.2) break;
        const w = (2 * Math.PI * f) / sampleRate;
        const [cw, sw] = [Math.cos(w), Math.sin(w)];
        let [re, im] = [1, 0];
        const a = amp * v.harmonics[h];
        const fade = v.decay / (1 + 0.6 * h);
        for (let i = 0; i < count && from + i < out.length; i++) {
          const t = i / sampleRate;
          const env = Math.min(1, t / v.attack) * Math.exp(-t / fade) * (t > length ? Math.max(0, 1 - (t - length) / v.release) : 1);
          out[from + i] += a * env * im;
          [re, im] = [re * cw - im * sw, re * sw + im * cw];
        }
      }
    }
  }
  let peak = 0;
  for (const s of out) peak = Math.max(peak, Math.abs(s));
  if (peak > 0.89) for (let i = 0; i < out.length; i++) out[i] *= 0.89 / peak;
  return out;
}
