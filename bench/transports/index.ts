import { fifo } from './fifo.js';
import { pipe } from './pipe.js';
import { shm } from './shm.js';
import { stdio } from './stdio.js';
import { unix } from './unix.js';
import { worker } from './worker.js';
import type { TransportModule, TransportName } from './types.js';

export const transports: Record<TransportName, TransportModule> = { shm, stdio, pipe, fifo, unix, worker };
export * from './types.js';
