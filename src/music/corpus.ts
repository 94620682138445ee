/**
 * The default jazz corpus, generated in code from a seed (no music is shipped): idiomatic lines
 * over ii-V-I in all keys, minor ii-V-i, 12-bar blues, rhythm changes and dominant cycles. Chord
 * tones on the strong eighths, scale steps and chromatic passing tones between them, chromatic
 * approaches and enclosures into the next chord's 3rd or 7th, arpeggios up and scales down,
 * phrases of 1-4 bars with rests between them, an occasional quarter-note triplet.
 * Pure functions: no tfjs, no task imports.
 */
import { Chord, parseChord, pitchName } from './chords';
import { Note } from './midi';

/** Something that draws random numbers: seqlab's seeded Rng fits. */
export interface Random {
  random(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
}

/** A chord and the beats it lasts, from `start` (quarters). */
export interface ChordSpan {
  chord: Chord;
  start: number;
  duration: number;
}

export interface Lead {
  name: string;
  /** 4/4 throughout */
  bars: number;
  chords: ChordSpan[];
  melody: Note[];
}

/** Forms as chord symbols in C (or the key's tonic), two beats or a bar each: [symbol, beats]. */
const FORMS: Record<string, [string, number][]> = {
  'ii-V-I': [['Dm7', 4], ['G7', 4], ['Cmaj7', 4], ['Cmaj7', 4]],
  'short ii-V-I': [['Dm7', 2], ['G7', 2], ['Cmaj7', 4], ['Em7', 2], ['A7', 2], ['Dm7', 2], ['G7', 2]],
  'minor ii-V-i': [['Dm7b5', 4], ['G7b9', 4], ['Cm6', 4], ['Cm6', 4]],
  blues: [['C7', 4], ['F7', 4], ['C7', 4], ['C7', 4], ['F7', 4], ['F7', 4], ['C7', 4], ['A7', 4], ['Dm7', 4], ['G7', 4], ['C7', 2], ['A7', 2], ['Dm7', 2], ['G7', 2]],
  'rhythm changes': [['Cmaj7', 2], ['Am7', 2], ['Dm7', 2], ['G7', 2], ['Cmaj7', 2], ['Am7', 2], ['Dm7', 2], ['G7', 2], ['C7', 4], ['F7', 4], ['Fm6', 4], ['Dm7', 2], ['G7', 2]],
  'dominant cycle': [['E7', 4], ['A7', 4], ['D7', 4], ['G7', 4], ['Cmaj7', 4], ['Cmaj7', 4]],
  'minor blues': [['Cm7', 4], ['Cm7', 4], ['Cm7', 4], ['Cm7', 4], ['Fm7', 4], ['Fm7', 4], ['Cm7', 4], ['Cm7', 4], ['Abmaj7', 4], ['G7alt', 4], ['Cm7', 4], ['G7alt', 4]],
};

export const FORM_NAMES = Object.keys(FORMS);

/** The melody's range: E3 to C6 (the event model reads 48-83, and transposes into it). */
export const LOW = 52;
export const HIGH = 81;

/** The chord symbol `symbol` moved up `semitones`. */
function transposeSymbol(symbol: string, semitones: number): string {
  const m = /^([A-G][b#]?)(.*)$/.exec(symbol)!;
  const root = parseChord(m[1]).root;
  return pitchName(root + semitones) + m[2];
}

/** A form's chords in a key (semitones above C), `choruses` times over. */
export function formChords(form: string, key: number, choruses = 1): ChordSpan[] {
  const spans: ChordSpan[] = [];
  let at = 0;
  for (let k = 0; k < choruses; k++) {
    for (const [symbol, beats] of FORMS[form]) {
      spans.push({ chord: parseChord(transposeSymbol(symbol, key)), start: at, duration: beats });
      at += beats;
    }
  }
  return spans;
}

/** The chord sounding at `t` (quarters). */
export function chordAt(spans: readonly ChordSpan[], t: number): ChordSpan {
  for (let i = spans.length - 1; i >= 0; i--) if (spans[i].start <= t + 1e-9) return spans[i];
  return spans[0];
}

const pc = (p: number) => ((p % 12) + 12) % 12;

/** The nearest pitch to `from` in `direction` (+1 up, -1 down, 0 either) whose pitch class is in `classes`. */
function nearest(from: number, classes: readonly number[], direction: number, minStep = 1): number {
  for (let d = minStep; d <= 12; d++) {
    if (direction >= 0 && classes.includes(pc(from + d))) return from + d;
    if (direction <= 0 && classes.includes(pc(from - d))) return from - d;
  }
  return from;
}

/** Keeps a pitch in [LOW, HIGH] by octaves. */
function inRange(p: number): number {
  while (p < LOW) p += 12;
  while (p > HIGH) p -= 12;
  return p;
}

/**
 * A solo over `spans`: phrases of 1-4 bars, eighth notes mostly, chord tones on the beats, scale
 * and chromatic steps between, approach notes into each new chord.
 */
export function improviseLine(spans: readonly ChordSpan[], rng: Random): Note[] {
  const end = spans[spans.length - 1].start + spans[spans.length - 1].duration;
  const notes: Note[] = [];
  let p = inRange(60 + spans[0].chord.root + (rng.chance(0.5) ? 12 : 0));
  let dir = rng.chance(0.5) ? 1 : -1;
  let t = rng.chance(0.5) ? 0 : 0.5 * rng.int(1, 3);
  while (t < end - 0.5) {
    const phraseEnd = Math.min(end, Math.floor(t / 4) * 4 + 4 * rng.int(1, 4));
    let mode = rng.chance(0.4) ? 'arpeggio' : 'scale';
    while (t < phraseEnd - 0.25) {
      const here = chordAt(spans, t).chord;
      const next = chordAt(spans, t + 0.5);
      const changing = next.start > t + 1e-9 && next.start <= t + 1 + 1e-9 && next.chord !== here;
      // a quarter-note triplet now and then, on a beat, arpeggiating
      if (Number.isInteger(t) && t + 2 <= phraseEnd && rng.chance(0.04) && !changing) {
        for (let k = 0; k < 3; k++) {
          p = inRange(nearest(p, here.pitches, dir, 2));
          notes.push({ pitch: p, start: t + (2 / 3) * k, duration: 2 / 3, velocity: 80 });
        }
        t += 2;
        continue;
      }
      const strong = Number.isInteger(t);
      if (changing && t + 0.5 >= next.start - 1e-9 && next.chord.root >= 0) {
        // the eighth before a new chord: a half step from its 3rd or 7th (from below, or above in an enclosure)
        const guide = [next.chord.pitches[1], next.chord.pitches[3] ?? next.chord.pitches[2]];
        const target = inRange(nearest(p, guide, 0, 0));
        p = inRange(target + (rng.chance(0.6) ? -1 : 1));
      } else if (strong || mode === 'arpeggio') {
        p = nearest(p, here.pitches.length ? here.pitches : [pc(p)], dir, mode === 'arpeggio' ? 3 : 1);
      } else {
        const scale = here.scale.length ? here.scale : [pc(p)];
        const step = nearest(p, scale, dir);
        // a chromatic passing tone through a whole step, now and then
        p = Math.abs(step - p) === 2 && rng.chance(0.3) ? p + dir : step;
      }
      if (p > HIGH - 2) dir = -1;
      else if (p < LOW + 2) dir = 1;
      else if (rng.chance(0.12)) dir = -dir;
      if (mode === 'arpeggio' && rng.chance(0.3)) {
        mode = 'scale';
        dir = -1;
      } else if (mode === 'scale' && strong && rng.chance(0.1)) {
        mode = 'arpeggio';
        dir = 1;
      }
      p = inRange(p);
      // eighths mostly; a quarter on a beat now and then
      const length = strong && rng.chance(0.12) ? 1 : 0.5;
      notes.push({ pitch: p, start: t, duration: length, velocity: strong ? 92 : 78 });
      t += length;
    }
    // the phrase ends on a longer chord tone, then a rest of 1-4 beats
    const here = chordAt(spans, t).chord;
    if (notes.length && here.pitches.length) {
      const last = notes[notes.length - 1];
      last.pitch = inRange(nearest(last.pitch, here.pitches, 0, 0));
      last.duration = Math.min(2, end - last.start);
    }
    t = Math.ceil(t + 1 + rng.int(0, 3) * 0.5 + rng.random()) - (rng.chance(0.5) ? 0.5 : 0);
  }
  // no overlaps: each note ends by the next one's start
  for (let i = 0; i + 1 < notes.length; i++) notes[i].duration = Math.min(notes[i].duration, notes[i + 1].start - notes[i].start);
  return notes.filter((n) => n.duration > 1e-6 && n.start < end);
}

/**
 * `pieces` lead sheets: each a form in a random key, one to three choruses, with a solo.
 * Names say what each one is ("blues in F#, 2 choruses").
 */
export function generateCorpus(pieces: number, rng: Random): Lead[] {
  const out: Lead[] = [];
  for (let i = 0; i < pieces; i++) {
    const form = FORM_NAMES[i % FORM_NAMES.length];
    const key = rng.int(0, 11);
    const choruses = rng.int(1, 3);
    const chords = formChords(form, key, choruses);
    const bars = Math.round((chords[chords.length - 1].start + chords[chords.length - 1].duration) / 4);
    out.push({ name: `${form} in ${pitchName(key)}, ${choruses} chorus${choruses > 1 ? 'es' : ''}`, bars, chords, melody: improviseLine(chords, rng) });
  }
  return out;
}

/** How a note relates to the chord under it: the course grammar's C/S/A/X. */
export function toneClass(pitch: number, chord: Chord): 'chord' | 'scale' | 'approach' | 'other' {
  if (chord.root < 0) return 'scale';
  const p = pc(pitch);
  if (chord.pitches.includes(p)) return 'chord';
  if (chord.scale.includes(p)) return 'scale';
  if (chord.pitches.some((c) => pc(c - p) === 1 || pc(p - c) === 1)) return 'approach';
  return 'other';
}
