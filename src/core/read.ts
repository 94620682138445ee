/**
 * Reading tensors back, the one way task code does it: asynchronously. On a GPU backend in Node
 * (webgpu) dataSync()/arraySync() throw (they need OffscreenCanvas); `await data()` works on
 * every backend and costs nothing extra on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs';

/** Runs `fn` in a tidy scope, reads the tensor it returns as a flat typed array, and disposes it. */
export async function readData(fn: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(fn);
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Like readData, as nested arrays of the tensor's shape. */
export async function readArray<T = number[][]>(fn: () => tf.Tensor): Promise<T> {
  const t = tf.tidy(fn);
  try {
    return (await t.array()) as T;
  } finally {
    t.dispose();
  }
}
