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

/**
 * The same as a tensor [batch, steps, vocab]. On webgpu the one-hot is made on the GPU from the
 * indices (vocab times less to upload at each batch); elsewhere it is written here.
 */
export function oneHot3d(sequences: readonly ArrayLike<number>[], steps: number, vocab: number): tf.Tensor3D {
  if (tf.getBackend() === 'webgpu') {
    const ids = new Int32Array(sequences.length * steps).fill(-1); // -1: an all-zero row, as below
    sequences.forEach((seq, b) => {
      for (let t = 0; t < Math.min(steps, seq.length); t++) ids[b * steps + t] = seq[t];
    });
    return tf.tidy(() => tf.oneHot(tf.tensor2d(ids, [sequences.length, steps], 'int32'), vocab, 1, 0, 'float32') as tf.Tensor3D);
  }
  return tf.tensor3d(oneHot(sequences, steps, vocab), [sequences.length, steps, vocab]);
}
