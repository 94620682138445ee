/**
 * Dropout that draws a new mask at every training step, reproducibly from its seed.
 *
 * tf.layers.dropout given a seed (tfjs 4.22) seeds a fresh generator with it on every call, so it
 * drops the very same values at every step for a batch of the same shape: a fixed mask, not dropout
 * (test/dropout.test.ts shows it). Here the seed starts a stream: call i's mask is drawn from
 * (seed, i), and the count of calls is saved with the model, so a resumed run goes on with the
 * stream where it stopped. What it computes is Keras' inverted dropout: in training each value is
 * kept with probability 1 - rate and scaled by 1 / (1 - rate); at inference it is the identity.
 * The mask is drawn by a small integer generator in JavaScript (tfjs' seeded randomUniform is a
 * per-value JavaScript generator too, and took ~12% of a trigger training step).
 */
import * as tf from '@tensorflow/tfjs';

export interface DropoutArgs {
  rate: number;
  seed?: number;
  name?: string;
  /** masks drawn so far (restored from a saved model) */
  calls?: number;
}

/** splitmix32: a well-mixed 32-bit value from any 32-bit state */
function mix(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A dropout mask of `size` values: 1 / (1 - rate) with probability 1 - rate, else 0; the same for
 * the same (seed, call), independent between calls (xorshift128 seeded through splitmix32).
 */
export function dropoutMask(size: number, rate: number, seed: number, call: number): Float32Array {
  let a = mix(seed ^ 0x5eed);
  let b = mix(a ^ call);
  let c = mix(b + 0x632be5ab);
  let d = mix(c ^ 0x1b873593) | 1; // xorshift128's state must not be all zeros
  const keep = 1 / (1 - rate);
  const below = rate * 4294967296; // a value is dropped when its 32 random bits fall below this
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = d ^ (d >>> 19) ^ (t ^ (t >>> 8));
    if (d >>> 0 >= below) mask[i] = keep;
  }
  return mask;
}

export class Dropout extends tf.layers.Layer {
  static className = 'SeqlabDropout';
  readonly rate: number;
  readonly seed: number;
  private calls: number;

  constructor(args: DropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`dropout rate must be in [0, 1), not ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed ?? 0;
    this.calls = args.calls ?? 0;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMask(x.size, this.rate, this.seed, this.calls++), x.shape, 'float32')));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, calls: this.calls };
  }
}
tf.serialization.registerClass(Dropout);

export const dropout = (args: DropoutArgs) => new Dropout(args);
