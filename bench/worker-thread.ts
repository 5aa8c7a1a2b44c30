// The worker_threads peer of the `worker` transport (see transports/worker.ts).
import { parentPort } from 'node:worker_threads';
import { workerPeerLink } from './transports/worker.js';
import { DEAD } from './transports/sab-ring.js';
import { servePeer } from './session.js';

const { spec, link, state } = workerPeerLink();
parentPort!.postMessage('ready');
try {
  await servePeer(spec, link);
} catch (error) {
  Atomics.store(state, DEAD, 1);
  Atomics.notify(state, DEAD);
  throw error;
}
