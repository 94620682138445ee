/** One-hot encoding of index sequences, the one place every task turns indices into model input. */
import * as tf from '@tensorflow/tfjs';

/** One-hot rows of a batch of index sequences, laid out [batch, steps, vocab] for a tensor. */
export function oneHot(sequences: readonly ArrayLike<number>[], steps: number, vocab: number): Float32Array {
  const out = new Float32Array(sequences.length * steps * vocab);
  sequences.forEach((seq, b) => {
    for (let t = 0; t < steps; t++) out[(b * steps + t) * vocab + seq[t]] = 1;
  });
  return out;
}

/** The same as a tensor [batch, steps, vocab]. */
export function oneHot3d(sequences: readonly ArrayLike<number>[], steps: number, vocab: number): tf.Tensor3D {
  return tf.tensor3d(oneHot(sequences, steps, vocab), [sequences.length, steps, vocab]);
}
