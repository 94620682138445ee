/**
 * A melody as events on a sixteenth-note grid (MelodyRNN's encoding): at each step a note starts
 * (one of PITCHES), the sounding note stops (NOTE_OFF), or nothing changes (HOLD); and the chord
 * under each step as the model reads it (ImprovRNN's chord_pitches: root, pitch classes, bass) with
 * the step's position in the bar. Pure functions: no tfjs, no task imports.
 */
import { Chord } from './chords';
import { ChordSpan, chordAt } from './corpus';
import { Note } from './midi';

export const STEPS_PER_QUARTER = 4;
export const STEPS_PER_BAR = 16;
/** the pitches a melody event can start: C3 (48) to B5 (83) */
export const PITCH_LOW = 48;
export const PITCH_HIGH = 83;
export const HOLD = 0;
export const NOTE_OFF = 1;
/** HOLD, NOTE_OFF and one NOTE_ON per pitch: 38 */
export const EVENTS = 2 + PITCH_HIGH - PITCH_LOW + 1;
/** chord root (12) + pitch classes (12) + bass (12) + position in the bar (16) */
export const CONDITION_SIZE = 12 + 12 + 12 + STEPS_PER_BAR;
/** what the model reads at each step: the previous event, one-hot, and the condition */
export const INPUT_SIZE = EVENTS + CONDITION_SIZE;

export const noteOn = (pitch: number) => 2 + pitch - PITCH_LOW;
export const isNoteOn = (event: number) => event >= 2;
export const eventPitch = (event: number) => event - 2 + PITCH_LOW;

/** A melody that leaves the event range at some note: move it by octaves first. */
export class EventRangeError extends Error {}

/**
 * The events of `steps` grid steps. Onsets and ends are rounded to the grid; a note that would
 * start where another starts is dropped (the line is monophonic); a note longer than the gap to the
 * next onset is cut there.
 */
export function encodeMelody(notes: readonly Note[], steps: number): Int32Array {
  const events = new Int32Array(steps); // HOLD
  const sorted = [...notes].sort((a, b) => a.start - b.start || b.pitch - a.pitch);
  let lastOn = -1;
  let lastOff = -1;
  for (const n of sorted) {
    const on = Math.round(n.start * STEPS_PER_QUARTER);
    if (on <= lastOn || on >= steps) continue;
    if (n.pitch < PITCH_LOW || n.pitch > PITCH_HIGH) throw new EventRangeError(`pitch ${n.pitch} is outside ${PITCH_LOW}-${PITCH_HIGH}`);
    // the previous note ends here at the latest: its off, if it would come later, is dropped
    if (lastOff > on && lastOff < steps) events[lastOff] = HOLD;
    events[on] = noteOn(n.pitch);
    lastOff = Math.max(on + 1, Math.round((n.start + n.duration) * STEPS_PER_QUARTER));
    if (lastOff < steps) events[lastOff] = NOTE_OFF;
    lastOn = on;
  }
  return events;
}

/** The notes of an event sequence; `offset` (quarters) is where step 0 lies. */
export function decodeEvents(events: ArrayLike<number>, offset = 0, velocity = 88): Note[] {
  const notes: Note[] = [];
  let current: Note | undefined;
  const close = (s: number) => {
    if (current) current.duration = offset + s / STEPS_PER_QUARTER - current.start;
    current = undefined;
  };
  for (let s = 0; s < events.length; s++) {
    const e = events[s];
    if (e === NOTE_OFF) close(s);
    else if (isNoteOn(e)) {
      close(s);
      current = { pitch: eventPitch(e), start: offset + s / STEPS_PER_QUARTER, duration: 0, velocity };
      notes.push(current);
    }
  }
  close(events.length);
  return notes;
}

/** The condition vector of a chord at a position in the bar, written into `out` at `at`. */
export function writeCondition(out: Float32Array, at: number, chord: Chord, stepInBar: number): void {
  if (chord.root >= 0) {
    out[at + chord.root] = 1;
    for (const p of chord.pitches) out[at + 12 + p] = 1;
    out[at + 24 + chord.bass] = 1;
  }
  out[at + 36 + (stepInBar % STEPS_PER_BAR)] = 1;
}

/**
 * Model inputs for `events` over `chords`: at step s the event of step s − 1 (none at s = 0, or
 * `before` when the window continues a line) and the condition of step s. [steps × INPUT_SIZE].
 */
export function eventInputs(events: ArrayLike<number>, chords: readonly ChordSpan[], firstStep = 0, before?: number): Float32Array {
  const x = new Float32Array(events.length * INPUT_SIZE);
  for (let s = 0; s < events.length; s++) {
    const prev = s === 0 ? before : events[s - 1];
    if (prev !== undefined) x[s * INPUT_SIZE + prev] = 1;
    const step = firstStep + s;
    writeCondition(x, s * INPUT_SIZE + EVENTS, chordAt(chords, step / STEPS_PER_QUARTER).chord, step);
  }
  return x;
}

/** A melody and its chords moved by `semitones` (null when a note would leave the event range). */
export function transpose(notes: readonly Note[], chords: readonly ChordSpan[], semitones: number): { notes: Note[]; chords: ChordSpan[] } | null {
  if (notes.some((n) => n.pitch + semitones < PITCH_LOW || n.pitch + semitones > PITCH_HIGH)) return null;
  const move = (c: Chord): Chord => (c.root < 0 ? c : { ...c, root: (c.root + semitones + 12) % 12, bass: (c.bass + semitones + 12) % 12, pitches: c.pitches.map((p) => (p + semitones + 12) % 12), scale: c.scale.map((p) => (p + semitones + 12) % 12) });
  return { notes: notes.map((n) => ({ ...n, pitch: n.pitch + semitones })), chords: chords.map((s) => ({ ...s, chord: move(s.chord) })) };
}
