/** Where seqlab keeps what it derives once and reuses (converted word vectors, synthesized speech). */
import * as path from 'path';
import { packageRoot } from './paths';

/** datasets/cache/ of the seqlab installation, or $SEQLAB_CACHE. */
export function defaultCacheDir(): string {
  return process.env.SEQLAB_CACHE || path.join(packageRoot(), 'datasets', 'cache');
}
