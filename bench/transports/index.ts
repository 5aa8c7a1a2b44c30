import { bare } from './bare.js';
import { fifo } from './fifo.js';
import { ipcAdvanced, ipcJson } from './ipc.js';
import { pipe } from './pipe.js';
import { shm } from './shm.js';
import { stdio } from './stdio.js';
import { unix } from './unix.js';
import { worker } from './worker.js';
import type { TransportModule, TransportName } from './types.js';

/** The JavaScript transports; the C ones (c-ring, c-bare) run through native.ts. */
export const transports: Partial<Record<TransportName, TransportModule>> = {
  shm,
  stdio,
  pipe,
  fifo,
  unix,
  'ipc-advanced': ipcAdvanced,
  'ipc-json': ipcJson,
  worker,
  'js-bare': bare,
};

export function transportModule(name: TransportName): TransportModule {
  const module = transports[name];
  if (!module) throw new Error(`${name} is a C transport: it runs through bench/transports/native.ts`);
  return module;
}
export * from './types.js';
