/**
 * Chords: symbols a user types ("Dm7", "G7", "Cmaj7", "Bb7b9", "F#m7b5", "C6", "N.C.") and chords
 * recognised from the notes sounding together in a MIDI part, both as a root, a pitch-class set, a
 * bass, a quality and the scale improvisers use over it. Semitone arithmetic; no spelling.
 */

export type Quality = 'major' | 'minor' | 'dominant' | 'half-diminished' | 'diminished' | 'augmented' | 'suspended';

export interface Chord {
  /** as given, or as named when recognised */
  symbol: string;
  /** pitch class 0-11 (C = 0); -1 for no chord (N.C.) */
  root: number;
  /** the chord's pitch classes, root first */
  pitches: number[];
  /** the lowest pitch class (a slash chord's bass, else the root) */
  bass: number;
  quality: Quality;
  /** the scale over the chord, as pitch classes from its tonic */
  scale: number[];
}

const NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const LETTERS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** Scales as semitones above the root. */
const SCALES: Record<string, number[]> = {
  ionian: [0, 2, 4, 5, 7, 9, 11],
  lydian: [0, 2, 4, 6, 7, 9, 11],
  dorian: [0, 2, 3, 5, 7, 9, 10],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  altered: [0, 1, 3, 4, 6, 8, 10],
  halfWhole: [0, 1, 3, 4, 6, 7, 9, 10],
  locrian: [0, 1, 3, 5, 6, 8, 10],
  wholeHalf: [0, 2, 3, 5, 6, 8, 9, 11],
  wholeTone: [0, 2, 4, 6, 8, 10],
  melodicMinor: [0, 2, 3, 5, 7, 9, 11],
  aeolian: [0, 2, 3, 5, 7, 8, 10],
};

/** The chord symbols understood, as intervals above the root, with their quality (longest suffix first when parsing). */
const SUFFIXES: [string[], number[], Quality][] = [
  [['', 'maj', 'M'], [0, 4, 7], 'major'],
  [['maj7', 'M7', 'Δ', 'Δ7', 'ma7'], [0, 4, 7, 11], 'major'],
  [['maj9', 'M9', 'Δ9'], [0, 4, 7, 11, 2], 'major'],
  [['6', 'M6', 'maj6'], [0, 4, 7, 9], 'major'],
  [['69', '6/9'], [0, 4, 7, 9, 2], 'major'],
  [['maj7#11', 'M7#11', 'Δ#11'], [0, 4, 7, 11, 6], 'major'],
  [['add9', 'add2'], [0, 4, 7, 2], 'major'],
  [['m', 'min', '-', 'mi'], [0, 3, 7], 'minor'],
  [['m7', 'min7', '-7', 'mi7'], [0, 3, 7, 10], 'minor'],
  [['m9', 'min9', '-9'], [0, 3, 7, 10, 2], 'minor'],
  [['m11', 'min11', '-11'], [0, 3, 7, 10, 5], 'minor'],
  [['m6', 'min6', '-6'], [0, 3, 7, 9], 'minor'],
  [['mMaj7', 'mM7', 'm(maj7)', '-Δ', 'minmaj7'], [0, 3, 7, 11], 'minor'],
  [['7'], [0, 4, 7, 10], 'dominant'],
  [['9'], [0, 4, 7, 10, 2], 'dominant'],
  [['11'], [0, 7, 10, 2, 5], 'suspended'],
  [['13'], [0, 4, 7, 10, 2, 9], 'dominant'],
  [['7b9'], [0, 4, 7, 10, 1], 'dominant'],
  [['7#9'], [0, 4, 7, 10, 3], 'dominant'],
  [['7#11', '7b5'], [0, 4, 6, 10], 'dominant'],
  [['7b13', '7#5', '7+', '+7', 'aug7'], [0, 4, 8, 10], 'dominant'],
  [['7alt', 'alt'], [0, 4, 10, 1, 3, 8], 'dominant'],
  [['13b9'], [0, 4, 10, 1, 9], 'dominant'],
  [['7sus4', '7sus', '9sus4', '9sus'], [0, 5, 7, 10], 'suspended'],
  [['sus4', 'sus'], [0, 5, 7], 'suspended'],
  [['sus2'], [0, 2, 7], 'suspended'],
  [['m7b5', 'ø', 'ø7', 'min7b5', '-7b5'], [0, 3, 6, 10], 'half-diminished'],
  [['dim', '°', 'o'], [0, 3, 6], 'diminished'],
  [['dim7', '°7', 'o7'], [0, 3, 6, 9], 'diminished'],
  [['aug', '+'], [0, 4, 8], 'augmented'],
];
const BY_SUFFIX = new Map<string, { intervals: number[]; quality: Quality }>();
for (const [names, intervals, quality] of SUFFIXES) for (const n of names) BY_SUFFIX.set(n, { intervals, quality });

/** A chord symbol the parser does not know, with what it does know. */
export class ChordError extends Error {}

/** The scale for a chord: the one improvisers reach for first. */
function scaleFor(quality: Quality, intervals: readonly number[]): number[] {
  const has = (i: number) => intervals.includes(i);
  switch (quality) {
    case 'major':
      return has(6) ? SCALES.lydian : SCALES.ionian;
    case 'minor':
      return has(11) ? SCALES.melodicMinor : SCALES.dorian;
    case 'dominant':
      if (has(1) && has(3) && has(8)) return SCALES.altered;
      if (has(1) || has(3)) return SCALES.halfWhole;
      if (has(6)) return [0, 2, 4, 6, 7, 9, 10]; // lydian dominant
      if (has(8)) return SCALES.wholeTone;
      return SCALES.mixolydian;
    case 'suspended':
      return SCALES.mixolydian;
    case 'half-diminished':
      return SCALES.locrian;
    case 'diminished':
      return SCALES.wholeHalf;
    case 'augmented':
      return SCALES.wholeTone;
  }
}

function make(symbol: string, root: number, intervals: readonly number[], quality: Quality, bass = root): Chord {
  return { symbol, root, pitches: intervals.map((i) => (root + i) % 12), bass, quality, scale: scaleFor(quality, intervals).map((i) => (root + i) % 12) };
}

/** No chord: every pitch class is as good as another. */
export const NO_CHORD: Chord = { symbol: 'N.C.', root: -1, pitches: [], bass: -1, quality: 'major', scale: [] };

function parseNote(text: string): [number, string] | undefined {
  const letter = LETTERS[text[0]?.toUpperCase()];
  if (letter === undefined) return undefined;
  let pc = letter;
  let i = 1;
  for (; i < text.length && (text[i] === '#' || text[i] === 'b' || text[i] === '♯' || text[i] === '♭'); i++) pc += text[i] === '#' || text[i] === '♯' ? 1 : -1;
  return [(pc + 12) % 12, text.slice(i)];
}

/** One chord symbol: root, then a quality suffix from the table, then an optional /bass. */
export function parseChord(symbol: string): Chord {
  const text = symbol.trim();
  if (/^(n\.?c\.?|nc|-|x)$/i.test(text)) return NO_CHORD;
  const [head, bassText, extra] = text.split('/');
  const root = parseNote(head);
  const suffix = root?.[1];
  let known = suffix === undefined ? undefined : BY_SUFFIX.get(suffix);
  let bass = root?.[0];
  if (bassText !== undefined) {
    if (bassText === '9' && suffix === '6') known = BY_SUFFIX.get('69'); // C6/9
    else {
      const b = parseNote(bassText);
      if (!b || b[1] !== '' || extra !== undefined) known = undefined;
      else bass = b[0];
    }
  }
  if (!root || !known) throw new ChordError(`"${symbol}" is not a chord symbol seqlab knows (e.g. C, Cm, C7, Cmaj7, Cm7, Cm7b5, Cdim7, C7b9, C7alt, C6, Csus4, C/E, N.C.)`);
  return make(text, root[0], known.intervals, known.quality, bass);
}

export function pitchName(pc: number): string {
  return NAMES[((pc % 12) + 12) % 12];
}

/** Templates for recognising chords from sounding pitch classes, most specific first. */
const TEMPLATES: [string, number[], Quality][] = SUFFIXES.filter(([names]) => ['maj7', '7', 'm7', 'm7b5', 'dim7', '6', 'm6', 'mMaj7', '7sus4', '', 'm', 'dim', 'aug', 'sus4'].includes(names[0])).map(
  ([names, intervals, quality]) => [names[0], intervals, quality],
);

/**
 * The chord a set of sounding pitch classes makes: the root and template that explain the most
 * of them (a template tone missing costs less than a tone left unexplained; the bass breaks ties).
 */
export function recogniseChord(pitchClasses: Iterable<number>, bass?: number): Chord {
  const set = new Set([...pitchClasses].map((p) => ((p % 12) + 12) % 12));
  if (set.size === 0) return NO_CHORD;
  if (set.size === 1) {
    const [pc] = set;
    return make(pitchName(pc), pc, [0, 4, 7], 'major');
  }
  let best: { score: number; root: number; t: (typeof TEMPLATES)[number] } | undefined;
  for (const root of set) {
    for (const t of TEMPLATES) {
      const pcs = t[1].map((i) => (root + i) % 12);
      const hit = pcs.filter((p) => set.has(p)).length;
      const missing = pcs.length - hit;
      const unexplained = set.size - hit;
      const score = 2 * hit - 1.5 * unexplained - missing - (missing && pcs.length === 3 ? 0.5 : 0) + (root === bass ? 0.6 : 0) + (pcs.length === 4 && !missing ? 0.2 : 0);
      if (!best || score > best.score) best = { score, root, t };
    }
  }
  const { root, t } = best!;
  return make(pitchName(root) + t[0], root, t[1], t[2], bass ?? root);
}
