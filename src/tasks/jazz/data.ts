/**
 * jazz's data: lead sheets (a melody over chords) from the generated corpus or from a user's MIDI
 * files, split by piece, as event sequences in all twelve keys, and training windows of them.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { SeqlabError } from '../../core/errors';
import { fileError } from '../../core/files';
import { Rng } from '../../core/rng';
import { Chord, parseChord, recogniseChord } from '../../music/chords';
import { ChordSpan, chordAt, generateCorpus, Lead, toneClass } from '../../music/corpus';
import { encodeMelody, EVENTS, eventInputs, INPUT_SIZE, STEPS_PER_BAR, transpose } from '../../music/events';
import { MidiError, Note, pickChords, pickMelody, readMidi, Song } from '../../music/midi';

/** A piece as the model sees it in one key: events and the model's inputs, step by step. */
export interface Sequence {
  events: Int32Array;
  /** [steps × INPUT_SIZE] */
  inputs: Float32Array;
}

/** Which part of a MIDI file is the melody and which the chords: a track number (0-based, as listed) or auto. */
export interface TrackChoice {
  melody: number | 'auto';
  chords: number | 'auto';
}

/** The chords of a MIDI part, one recognised every two beats from what sounds then; repeats merged. */
export function chordsFromPart(notes: readonly Note[], quarters: number): ChordSpan[] {
  const spans: ChordSpan[] = [];
  for (let t = 0; t < quarters; t += 2) {
    const sounding = notes.filter((n) => n.start < t + 2 - 1e-6 && n.start + n.duration > t + 1e-6);
    if (!sounding.length) continue;
    const bass = sounding.reduce((a, b) => (b.pitch < a.pitch ? b : a)).pitch % 12;
    const chord = recogniseChord(sounding.map((n) => n.pitch), bass);
    const last = spans[spans.length - 1];
    if (last && last.chord.symbol === chord.symbol && last.start + last.duration === t) last.duration += 2;
    else spans.push({ chord, start: t, duration: 2 });
  }
  return spans;
}

/** A monophonic line: notes sorted by onset, each cut where the next starts; the higher of two starting together. */
function monophonic(notes: readonly Note[]): Note[] {
  const sorted = [...notes].sort((a, b) => a.start - b.start || b.pitch - a.pitch);
  const out: Note[] = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && Math.abs(n.start - last.start) < 1 / 16) continue;
    if (last) last.duration = Math.min(last.duration, n.start - last.start);
    out.push({ ...n });
  }
  return out;
}

/** The lead sheet of a user's MIDI file: its melody part over the chords of its chord part. */
export function leadFromMidi(file: string, choice: TrackChoice): Lead {
  let song: Song;
  try {
    song = readMidi(fs.readFileSync(file));
  } catch (err) {
    if (err instanceof MidiError) throw new SeqlabError(`${file} ${err.message}`);
    throw fileError('read', file, err);
  }
  const listing = song.parts.map((p, i) => `${i} ${p.name || '(unnamed)'}${p.channel === 9 ? ' (drums)' : ''}`).join(', ');
  const pick = (given: number | 'auto', what: string, auto: () => number | undefined): number | undefined => {
    if (given === 'auto') return auto();
    if (given >= song.parts.length) throw new SeqlabError(`${file} has no track ${given} for the ${what} (its tracks: ${listing})`);
    return given;
  };
  let melodyIndex: number | undefined;
  try {
    melodyIndex = pick(choice.melody, 'melody', () => pickMelody(song));
  } catch (err) {
    if (err instanceof MidiError) throw new SeqlabError(`${file} ${err.message} (its tracks: ${listing})`);
    throw err;
  }
  const chordIndex = pick(choice.chords, 'chords', () => pickChords(song, melodyIndex!));
  if (chordIndex === undefined) throw new SeqlabError(`${file} has no part playing chords besides the melody; name one with --chord-track (its tracks: ${listing})`);
  if (chordIndex === melodyIndex) throw new SeqlabError(`${file}: the melody and the chords cannot be the same track (${melodyIndex})`);
  const melody = monophonic(song.parts[melodyIndex!].notes);
  const quarters = Math.ceil(Math.max(...song.parts.flatMap((p) => p.notes.map((n) => n.start + n.duration))) / 4) * 4;
  const chords = chordsFromPart(song.parts[chordIndex].notes, quarters);
  if (!chords.length) throw new SeqlabError(`${file}: track ${chordIndex} has no chords to read`);
  // the melody into the event range by whole octaves (the model reads C3-B5)
  const mean = melody.reduce((s, n) => s + n.pitch, 0) / melody.length;
  const shift = 12 * Math.round((66 - mean) / 12);
  return {
    name: `${file} (melody: track ${melodyIndex} ${song.parts[melodyIndex!].name || ''}, chords: track ${chordIndex} ${song.parts[chordIndex].name || ''})`.replace(/ +\)/g, ')'),
    bars: quarters / 4,
    chords,
    melody: melody.map((n) => ({ ...n, pitch: Math.min(83, Math.max(48, n.pitch + shift)) })),
  };
}

/** The generated corpus: `pieces` lead sheets from a seed. */
export function generatedLeads(pieces: number, seed: number): Lead[] {
  return generateCorpus(pieces, new Rng(seed));
}

/** A lead sheet as sequences in every key its melody fits (semitones −6 ... +5), or as it is. */
export function sequences(lead: Lead, allKeys: boolean): Sequence[] {
  const steps = lead.bars * STEPS_PER_BAR;
  const out: Sequence[] = [];
  for (let k = allKeys ? -6 : 0; k <= (allKeys ? 5 : 0); k++) {
    const moved = transpose(lead.melody, lead.chords, k);
    if (!moved) continue;
    const events = encodeMelody(moved.notes, steps);
    out.push({ events, inputs: eventInputs(events, moved.chords) });
  }
  return out;
}

/** Held-out pieces: every tenth (at least one when there are two or more). */
export function splitPieces<T>(pieces: readonly T[]): { train: T[]; held: T[] } {
  if (pieces.length < 2) return { train: [...pieces], held: [] };
  const held = pieces.filter((_, i) => i % 10 === 9 || (pieces.length < 10 && i === pieces.length - 1));
  return { train: pieces.filter((p) => !held.includes(p)), held };
}

/** A batch of `batchSize` windows of `steps` steps from random sequences, starting on a bar line; targets one-hot. */
export function windowBatch(seqs: readonly Sequence[], steps: number, batchSize: number, seed: number): { xs: tf.Tensor3D; ys: tf.Tensor3D } {
  const rng = new Rng(seed);
  const x = new Float32Array(batchSize * steps * INPUT_SIZE);
  const y = new Float32Array(batchSize * steps * EVENTS);
  for (let b = 0; b < batchSize; b++) {
    const s = seqs[rng.int(0, seqs.length - 1)];
    const total = s.events.length;
    const start = total > steps ? STEPS_PER_BAR * rng.int(0, Math.floor((total - steps) / STEPS_PER_BAR)) : 0;
    const n = Math.min(steps, total - start);
    // (a window that starts mid-piece reads the event before it: the inputs already hold it)
    x.set(s.inputs.subarray(start * INPUT_SIZE, (start + n) * INPUT_SIZE), b * steps * INPUT_SIZE);
    for (let t = 0; t < n; t++) y[(b * steps + t) * EVENTS + s.events[start + t]] = 1;
  }
  return { xs: tf.tensor3d(x, [batchSize, steps, INPUT_SIZE]), ys: tf.tensor3d(y, [batchSize, steps, EVENTS]) };
}

/**
 * Chords for `bars` bars from a progression typed by a user: symbols separated by spaces are a bar
 * each; with bar lines ("Dm7 G7 | Cmaj7 |") the chords between two lines share their bar. Repeated
 * to fill the bars.
 */
export function progression(text: string, bars: number): ChordSpan[] {
  const barTexts = text.includes('|') ? text.split('|').map((b) => b.trim()).filter(Boolean) : text.trim().split(/\s+/).filter(Boolean);
  if (!barTexts.length) throw new SeqlabError('--chords is empty: give chord symbols, e.g. --chords "Dm7 G7 Cmaj7 Cmaj7"');
  const perBar: Chord[][] = barTexts.map((b) => b.split(/\s+/).map((s) => parseChord(s)));
  const spans: ChordSpan[] = [];
  for (let bar = 0; bar < bars; bar++) {
    const chords = perBar[bar % perBar.length];
    chords.forEach((chord, k) => spans.push({ chord, start: bar * 4 + (4 * k) / chords.length, duration: 4 / chords.length }));
  }
  return spans;
}

/** Shares of melody notes that are chord tones, scale tones, approach tones and others over their chords. */
export function toneShares(melody: readonly Note[], chords: readonly ChordSpan[]) {
  const counts = { chord: 0, scale: 0, approach: 0, other: 0 };
  for (const n of melody) counts[toneClass(n.pitch, chordAt(chords, n.start).chord)]++;
  const total = melody.length || 1;
  return { chord: counts.chord / total, scale: counts.scale / total, approach: counts.approach / total, other: counts.other / total, notes: melody.length };
}

