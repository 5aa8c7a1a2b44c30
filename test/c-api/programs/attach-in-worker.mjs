// Worker for exit-with-live-buffers.ts: attaches the segment (workerData), keeps a view, says so, and stays.
// Plain JavaScript that registers tsx itself: on Node 20, workers do not inherit the parent's --import hooks.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { shmat } = await import('../../../lib/index.ts');
const attachment = shmat(workerData);
globalThis.keep = [attachment, new Int32Array(attachment.buffer)];
Atomics.add(globalThis.keep[1], 1, 1);
parentPort.postMessage('attached');
setInterval(() => {}, 1000); // stays until the process ends or the worker is terminated
