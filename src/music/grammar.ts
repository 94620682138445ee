/**
 * The course's jazz grammar (deepjazz's grammar.py, as the course uses it), re-implemented without
 * music21 (pitches spelled as its MIDI import spells them, intervals named by letter steps): each melody note of a measure becomes a token
 * `TYPE,DURATION[,<UP,LO>]`: TYPE C (chord tone of the chord sounding), S (scale tone), A (a half
 * step from a chord tone), X (other), R (rest); DURATION its length in quarters ("%.3f"); and for
 * every note but the measure's first, the window of intervals from the previous note it may move by
 * (the interval itself ± a minor third, spelled as music21 spells them: "<P4,m-2>").
 * And back: tokens to notes over chords. Pure functions: no tfjs, no task imports.
 */
import { Chord, recogniseChord } from './chords';
import { ChordSpan, chordAt, toneClass } from './corpus';
import { Note } from './midi';

/** The nearest multiple of 1/4 or 1/3 of a quarter (music21's default MIDI quantisation). */
export function quantize(q: number): number {
  const a = Math.round(q * 4) / 4;
  const b = Math.round(q * 3) / 3;
  return Math.abs(a - q) <= Math.abs(b - q) ? a : b;
}

/** Notes that start and end together (within 1/16 quarter) as chords; single notes are dropped (the course's chord part). */
export function chordsOfPart(notes: readonly Note[]): ChordSpan[] {
  const groups = new Map<string, Note[]>();
  for (const n of notes) {
    const key = `${Math.round(n.start * 16)}:${Math.round((n.start + n.duration) * 16)}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(n);
  }
  return [...groups.values()]
    .filter((g) => new Set(g.map((n) => n.pitch)).size >= 2)
    .map((g) => {
      // named by the template that fits best, but a chord tone is any pitch class it sounds (as the course tests)
      const chord = recogniseChord(g.map((n) => n.pitch), Math.min(...g.map((n) => n.pitch)) % 12);
      const sounding = [...new Set(g.map((n) => n.pitch % 12))];
      return { chord: { ...chord, pitches: [chord.root, ...sounding.filter((p) => p !== chord.root)] }, start: g[0].start, duration: g[0].duration };
    })
    .sort((a, b) => a.start - b.start);
}

const TYPE = { chord: 'C', scale: 'S', approach: 'A', other: 'X' } as const;

/** music21's spelling of MIDI pitches (C C# D E- E F F# G G# A B- B): each pitch class's letter, C = 0 ... B = 6. */
const LETTER = [0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6];
/** semitones of the major / perfect simple intervals 1-7 */
const REFERENCE = [0, 0, 2, 4, 5, 7, 9, 11];
const PERFECT = new Set([1, 4, 5]);

/** Letter steps from one pitch to another (a 2nd = 1 step), as music21 spells them. */
const steps = (from: number, to: number) => LETTER[((to % 12) + 12) % 12] + 7 * Math.floor(to / 12) - (LETTER[((from % 12) + 12) % 12] + 7 * Math.floor(from / 12));

/** music21's directed interval name for a span of letter steps and semitones: "P1", "M3", "m-2", "d5", "A-4", "P11". */
export function intervalName(letterSteps: number, semitones: number): string {
  const down = letterSteps < 0;
  const [st, se] = down ? [-letterSteps, -semitones] : [letterSteps, semitones];
  const num = st + 1;
  const simple = ((num - 1) % 7) + 1;
  const diff = se - (REFERENCE[simple] + 12 * Math.floor((num - 1) / 7));
  const quality = PERFECT.has(simple)
    ? ({ [-3]: 'ddd', [-2]: 'dd', [-1]: 'd', 0: 'P', 1: 'A', 2: 'AA', 3: 'AAA' } as Record<number, string>)[diff]
    : ({ [-3]: 'dd', [-2]: 'd', [-1]: 'm', 0: 'M', 1: 'A', 2: 'AA' } as Record<number, string>)[diff];
  return `${quality ?? `(${diff})`}${down ? '-' : ''}${num}`;
}

/** The semitones of a directed interval name (the inverse of intervalName's semitone part). */
export function intervalSemitones(name: string): number {
  const m = /^(ddd|dd|d|m|M|P|A|AA|AAA)(-?)(\d+)$/.exec(name);
  if (!m) throw new Error(`not an interval name: ${name}`);
  const num = Number(m[3]);
  const simple = ((num - 1) % 7) + 1;
  const offsets: Record<string, number> = PERFECT.has(simple) ? { ddd: -3, dd: -2, d: -1, P: 0, A: 1, AA: 2, AAA: 3 } : { dd: -3, d: -2, m: -1, M: 0, A: 1, AA: 2 };
  const se = REFERENCE[simple] + 12 * Math.floor((num - 1) / 7) + offsets[m[1]];
  return m[2] ? -se : se;
}

/** The chord a note is heard against: the last one starting at or before it (the first one before any). */
function chordFor(chords: readonly ChordSpan[], t: number): Chord | undefined {
  return chords.length ? chordAt(chords, t).chord : undefined;
}

/** One measure's tokens: its notes (offsets from the measure's start) over its chords. */
export function measureTokens(notes: readonly Note[], chords: readonly ChordSpan[]): string[] {
  const tokens: string[] = [];
  let prev: number | undefined;
  for (const n of [...notes].sort((a, b) => a.start - b.start)) {
    const chord = chordFor(chords, n.start);
    const type = chord ? TYPE[toneClass(n.pitch, chord)] : 'X';
    const duration = (n.duration > 0 ? n.duration : 0.25).toFixed(3);
    if (prev === undefined) tokens.push(`${type},${duration}`);
    else {
      // the interval from the previous note plus and minus a minor third (2 letter steps, 3 semitones), spelled
      const st = steps(prev, n.pitch);
      const se = n.pitch - prev;
      tokens.push(`${type},${duration},<${intervalName(st + 2, se + 3)},${intervalName(st - 2, se - 3)}>`);
    }
    prev = n.pitch;
  }
  return tokens;
}

/**
 * The course's corpus from a melody and a chord part: notes quantised, the window [from, to]
 * (quarters) grouped into measures of 4 quarters, the first measure skipped, each measure's tokens
 * against the chords of that measure; all measures' tokens in order.
 */
export function courseCorpus(melody: readonly Note[], chordPart: readonly Note[], from: number, to: number): { tokens: string[]; measures: number; chords: ChordSpan[][] } {
  const q = (notes: readonly Note[]) => notes.map((n) => ({ ...n, start: quantize(n.start), duration: quantize(n.duration) || 0.25 }));
  const inWindow = (n: Note) => n.start >= from - 1e-9 && n.start <= to + 1e-9;
  const line = q(melody).filter(inWindow);
  const chords = chordsOfPart(q(chordPart).filter(inWindow));
  const measures = Math.floor((to - from) / 4) + 1;
  const tokens: string[] = [];
  const perMeasure: ChordSpan[][] = [];
  for (let m = 1; m < measures; m++) {
    const start = from + 4 * m;
    const here = chords.filter((c) => c.start >= start && c.start < start + 4).map((c) => ({ ...c, start: c.start - start }));
    const notes = line.filter((n) => n.start >= start && n.start < start + 4).map((n) => ({ ...n, start: n.start - start }));
    perMeasure.push(here);
    tokens.push(...measureTokens(notes, here));
  }
  return { tokens, measures: measures - 1, chords: perMeasure };
}

export interface Token {
  type: 'C' | 'S' | 'A' | 'X' | 'R';
  duration: number;
  /** semitones from the previous note: the lowest and highest allowed */
  window?: [number, number];
}

export function parseToken(token: string): Token {
  const m = /^([CSAXR]),([0-9.]+)(?:,<([^,>]+),([^,>]+)>)?$/.exec(token);
  if (!m) throw new Error(`not a grammar token: ${token}`);
  const up = m[3] === undefined ? undefined : intervalSemitones(m[3]);
  const lo = m[4] === undefined ? undefined : intervalSemitones(m[4]);
  return { type: m[1] as Token['type'], duration: Number(m[2]), ...(up !== undefined && lo !== undefined ? { window: [lo, up] as [number, number] } : {}) };
}

/**
 * Tokens back to notes over chords, one after another from `start` (no overlapping lines): a note
 * of the token's class within its interval window from the previous note (C: a chord tone, S: a
 * scale tone, A: a half step from a chord tone, X: anything else), not the previous pitch; with no
 * such pitch, two semitones from it. `random` picks among candidates.
 */
export function notesFromTokens(tokens: readonly string[], chords: readonly ChordSpan[], random: () => number, start = 0, firstPitch = 67): Note[] {
  const notes: Note[] = [];
  let t = start;
  let prev: number | undefined;
  for (const text of tokens) {
    const tok = parseToken(text);
    if (tok.type === 'R') {
      t += tok.duration;
      continue;
    }
    const chord = chordFor(chords, t);
    const want = { C: 'chord', S: 'scale', A: 'approach', X: 'other' }[tok.type];
    const [lo, hi] = tok.window && prev !== undefined ? [prev + tok.window[0], prev + tok.window[1]] : [(prev ?? firstPitch) - 6, (prev ?? firstPitch) + 6];
    const candidates: number[] = [];
    for (let p = Math.max(48, lo); p <= Math.min(84, hi); p++) if (p !== prev && (!chord || toneClass(p, chord) === want)) candidates.push(p);
    const base = prev ?? firstPitch;
    const pitch = candidates.length ? candidates[Math.floor(random() * candidates.length)] : Math.max(48, Math.min(84, base + (random() < 0.5 ? -2 : 2)));
    notes.push({ pitch, start: t, duration: tok.duration, velocity: 90 });
    prev = pitch;
    t += tok.duration;
  }
  return notes;
}
