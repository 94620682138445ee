/**
 * MIDI files in and out (midi-file parses and writes the bytes): notes with onsets and durations
 * in quarter notes, the tempo and time signature, and which track is the melody and which the
 * chords. Pure functions: no tfjs, no task imports.
 */
import { MidiData, MidiEvent, parseMidi, writeMidi as encodeMidi } from 'midi-file';

export interface Note {
  /** MIDI note number, 60 = middle C */
  pitch: number;
  /** onset in quarter notes from the start */
  start: number;
  /** length in quarter notes */
  duration: number;
  /** 1-127 */
  velocity: number;
}

export interface Part {
  name: string;
  /** 0-15; 9 is the General MIDI drum channel */
  channel: number;
  /** General MIDI program (0 = piano) */
  program: number;
  notes: Note[];
}

export interface Song {
  /** tracks in file order, each one part per channel it uses */
  parts: Part[];
  /** quarter notes per minute at the start */
  tempo: number;
  /** e.g. [4, 4] */
  timeSignature: [number, number];
}

/** A MIDI file seqlab cannot use, with the reason (the caller names the file). */
export class MidiError extends Error {}

const DRUMS = 9;

/** The notes of a Standard MIDI File (format 0 or 1). */
export function readMidi(bytes: Uint8Array): Song {
  let data: MidiData;
  try {
    data = parseMidi(bytes);
  } catch (err) {
    throw new MidiError(`is not a readable MIDI file (${err instanceof Error ? err.message : String(err)})`);
  }
  if (data.header.format === 2) throw new MidiError('is a format-2 MIDI file (independent patterns); save it as format 0 or 1');
  const ticksPerBeat = data.header.ticksPerBeat;
  if (!ticksPerBeat) throw new MidiError('counts time in SMPTE frames, not beats; save it with beat-based timing');
  let tempo = 120;
  let timeSignature: [number, number] = [4, 4];
  let tempoAt = Infinity;
  let signatureAt = Infinity;
  const parts: Part[] = [];
  for (const events of data.tracks) {
    let tick = 0;
    let name = '';
    const byChannel = new Map<number, Part>();
    const programs = new Map<number, number>();
    // sounding notes per channel and pitch: their start ticks and velocities, first in first out
    const open = new Map<number, { tick: number; velocity: number }[]>();
    const partOf = (channel: number) => {
      let p = byChannel.get(channel);
      if (!p) byChannel.set(channel, (p = { name, channel, program: programs.get(channel) ?? 0, notes: [] }));
      return p;
    };
    const close = (channel: number, pitch: number, at: number) => {
      const key = channel * 128 + pitch;
      const started = open.get(key)?.shift();
      if (!started) return;
      const duration = (at - started.tick) / ticksPerBeat;
      partOf(channel).notes.push({ pitch, start: started.tick / ticksPerBeat, duration, velocity: started.velocity });
    };
    for (const e of events as MidiEvent[]) {
      tick += e.deltaTime;
      switch (e.type) {
        case 'trackName':
          name ||= e.text.trim();
          break;
        case 'setTempo':
          if (tick < tempoAt) {
            tempoAt = tick;
            tempo = 60e6 / e.microsecondsPerBeat;
          }
          break;
        case 'timeSignature':
          if (tick < signatureAt) {
            signatureAt = tick;
            timeSignature = [e.numerator, e.denominator];
          }
          break;
        case 'programChange':
          programs.set(e.channel, e.programNumber);
          if (byChannel.has(e.channel) && !byChannel.get(e.channel)!.notes.length) byChannel.get(e.channel)!.program = e.programNumber;
          break;
        case 'noteOn':
          if (e.velocity === 0) close(e.channel, e.noteNumber, tick);
          else {
            const key = e.channel * 128 + e.noteNumber;
            if (!open.has(key)) open.set(key, []);
            open.get(key)!.push({ tick, velocity: e.velocity });
            partOf(e.channel);
          }
          break;
        case 'noteOff':
          close(e.channel, e.noteNumber, tick);
          break;
        default:
      }
    }
    // notes never released end with their track
    for (const [key, starts] of open) for (let k = starts.length; k > 0; k--) close(Math.floor(key / 128), key % 128, tick);
    for (const p of byChannel.values()) {
      if (!p.notes.length) continue;
      p.name ||= name;
      p.notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
      parts.push(p);
    }
  }
  if (!parts.length) throw new MidiError('holds no notes');
  if (parts.every((p) => p.channel === DRUMS)) throw new MidiError('holds drums only (channel 10): no melody or chords to learn from');
  return { parts, tempo, timeSignature };
}

/** A format-1 MIDI file: a tempo track, then one track per part. */
export function writeMidi(song: Song, ticksPerBeat = 480): Uint8Array {
  const tempoTrack: MidiEvent[] = [
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: Math.round(60e6 / song.tempo) },
    { deltaTime: 0, meta: true, type: 'timeSignature', numerator: song.timeSignature[0], denominator: song.timeSignature[1], metronome: 24, thirtyseconds: 8 },
    { deltaTime: 0, meta: true, type: 'endOfTrack' },
  ];
  const tracks = song.parts.map((p) => {
    // offs before ons at the same tick, so a repeated note sounds again
    const timed: { tick: number; on: boolean; note: Note }[] = [];
    for (const n of p.notes) {
      const on = Math.round(n.start * ticksPerBeat);
      timed.push({ tick: on, on: true, note: n }, { tick: Math.max(on + 1, Math.round((n.start + n.duration) * ticksPerBeat)), on: false, note: n });
    }
    timed.sort((a, b) => a.tick - b.tick || Number(a.on) - Number(b.on));
    const events: MidiEvent[] = [
      { deltaTime: 0, meta: true, type: 'trackName', text: p.name },
      { deltaTime: 0, channel: p.channel, type: 'programChange', programNumber: p.program },
    ];
    let last = 0;
    for (const t of timed) {
      const base = { deltaTime: t.tick - last, channel: p.channel, noteNumber: t.note.pitch };
      events.push(t.on ? { ...base, type: 'noteOn', velocity: t.note.velocity } : { ...base, type: 'noteOff', velocity: 0 });
      last = t.tick;
    }
    events.push({ deltaTime: 0, meta: true, type: 'endOfTrack' });
    return events;
  });
  return Uint8Array.from(encodeMidi({ header: { format: 1, numTracks: tracks.length + 1, ticksPerBeat }, tracks: [tempoTrack, ...tracks] }));
}

/** How many of a part's notes start while another of its notes still sounds (0 for a monophonic line). */
function overlapShare(p: Part): number {
  let overlaps = 0;
  let end = -Infinity;
  for (const n of p.notes) {
    if (n.start < end - 1 / 16) overlaps++;
    end = Math.max(end, n.start + n.duration);
  }
  return overlaps / p.notes.length;
}

/**
 * The melody: of the pitched parts that are mostly one note at a time (at most a quarter of the
 * notes start over another), the one with the most notes at or above middle C.
 */
export function pickMelody(song: Song): number {
  const candidates = song.parts.map((p, i) => ({ i, p })).filter(({ p }) => p.channel !== DRUMS && p.notes.length >= 8);
  if (!candidates.length) throw new MidiError('has no part with at least 8 pitched notes to use as the melody');
  const lines = candidates.filter(({ p }) => overlapShare(p) <= 0.25);
  if (!lines.length) throw new MidiError('has no part that plays one note at a time (a melody); name one with --melody-track');
  const high = (p: Part) => p.notes.filter((n) => n.pitch >= 60).length;
  lines.sort((a, b) => high(b.p) - high(a.p) || b.p.notes.length - a.p.notes.length);
  return lines[0].i;
}

/** The chords: the pitched part (other than the melody) with the most onsets shared by three or more notes. */
export function pickChords(song: Song, melody: number): number | undefined {
  let best: number | undefined;
  let most = 0;
  song.parts.forEach((p, i) => {
    if (i === melody || p.channel === DRUMS) return;
    const counts = new Map<number, number>();
    for (const n of p.notes) counts.set(Math.round(n.start * 16), (counts.get(Math.round(n.start * 16)) ?? 0) + 1);
    const stacked = [...counts.values()].filter((c) => c >= 3).length;
    if (stacked > most) {
      most = stacked;
      best = i;
    }
  });
  return best;
}
