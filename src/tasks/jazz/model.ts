/**
 * jazz's default model, ImprovRNN-style: at each sixteenth, the previous melody event and the
 * chord (root, pitch classes, bass) with the position in the bar → stacked LSTMs with dropout →
 * softmax over the next event (HOLD, NOTE_OFF, NOTE_ON per pitch). Sampling runs the LSTMs one
 * step at a time with their state carried (Lstm.step), all outputs of a call as one batch.
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../core/optimizer';
import { readData } from '../../core/read';
import { Rng } from '../../core/rng';
import { Lstm } from '../../models/recurrent';
import { stackedLstmClassifier } from '../../models/stacked';
import { ChordSpan, chordAt } from '../../music/corpus';
import { EVENTS, INPUT_SIZE, STEPS_PER_QUARTER, writeCondition } from '../../music/events';

export interface JazzModelConfig {
  layers: number;
  units: number;
  dropout: number;
}

export function buildJazzModel(cfg: JazzModelConfig, seed: number): tf.LayersModel {
  return stackedLstmClassifier({ inputSize: INPUT_SIZE, classes: EVENTS, ...cfg, seed, names: { input: 'event_and_chord', output: 'next_event', model: 'jazz_event_lstm' } });
}

export function compileJazzModel(model: tf.LayersModel, lr: number): void {
  model.compile({ optimizer: adam(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}

/**
 * `count` event sequences over `chords` for `steps` sixteenths, drawn at `temperature` (0: the most
 * likely event each step). `primer` events are played first as given (the model hears them).
 */
export async function sampleEvents(model: tf.LayersModel, chords: readonly ChordSpan[], steps: number, count: number, temperature: number, seed: number, primer: readonly number[] = []): Promise<Int32Array[]> {
  const rng = new Rng(seed);
  const layers = model.layers.filter((l): l is Lstm => l instanceof Lstm);
  const dense = model.getLayer('next_event');
  const [kernel, bias] = dense.getWeights();
  let states = layers.map((l) => ({ h: tf.zeros([count, l.units]) as tf.Tensor2D, c: tf.zeros([count, l.units]) as tf.Tensor2D }));
  const out = Array.from({ length: count }, () => new Int32Array(steps));
  const x = new Float32Array(count * INPUT_SIZE);
  for (let s = 0; s < steps; s++) {
    x.fill(0);
    const chord = chordAt(chords, s / STEPS_PER_QUARTER).chord;
    for (let b = 0; b < count; b++) {
      if (s > 0) x[b * INPUT_SIZE + out[b][s - 1]] = 1;
      writeCondition(x, b * INPUT_SIZE + EVENTS, chord, s);
    }
    const probs = await readData(() => {
      let h: tf.Tensor2D = tf.tensor2d(x, [count, INPUT_SIZE]);
      const next = layers.map((layer, l) => {
        const st = layer.step(h, states[l]);
        h = st.h;
        return st;
      });
      tf.dispose(states.flatMap((st) => [st.h, st.c]));
      states = next.map((st) => ({ h: tf.keep(st.h), c: tf.keep(st.c) }));
      return tf.softmax(tf.add(tf.matMul(h, kernel), bias));
    });
    for (let b = 0; b < count; b++) {
      if (s < primer.length) {
        out[b][s] = primer[s];
        continue;
      }
      const p = probs.subarray(b * EVENTS, (b + 1) * EVENTS);
      out[b][s] = temperature <= 0 ? p.indexOf(Math.max(...p)) : rng.weighted(Array.from(p, (q) => Math.pow(Math.max(q, 1e-30), 1 / temperature)));
    }
  }
  tf.dispose(states.flatMap((st) => [st.h, st.c]));
  return out;
}

/** Summed −log p of each sequence's events (teacher forcing), and how many events. */
export async function sequenceNll(model: tf.LayersModel, seqs: readonly { events: Int32Array; inputs: Float32Array }[]): Promise<{ nll: number; events: number }> {
  let nll = 0;
  let events = 0;
  for (const s of seqs) {
    const T = s.events.length;
    const p = await readData(() => model.predict(tf.tensor3d(s.inputs, [1, T, INPUT_SIZE])) as tf.Tensor);
    for (let t = 0; t < T; t++) nll -= Math.log(Math.max(p[t * EVENTS + s.events[t]], 1e-12));
    events += T;
  }
  return { nll, events };
}
