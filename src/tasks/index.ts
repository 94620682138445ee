/** The table of tasks the CLI offers: one module per task. */
import { Task } from '../core/task';
import { nmt } from './nmt';
import { rnn } from './rnn';
import { emojify } from './emojify';
import { dinos } from './dinos';
import { trigger } from './trigger';
import { jazz } from './jazz';

export const TASKS: readonly Task[] = [nmt, rnn, emojify, dinos, trigger, jazz];
