// Worker for workers.ts: attaches the segment twice (one attachment with a view, one without), reports, then ends
// the way workerData.ending says: 'natural' (its event loop empties), 'exit' (process.exit()), or 'stay' (waits
// to be terminated). With workerData.move, it also moves the memory of its view to the main thread
// (ArrayBuffer.prototype.transfer, Node >= 21), which the library cannot track.
// Plain JavaScript that registers tsx itself: on Node 20, workers do not inherit the parent's --import hooks.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { shmat } = await import('../../../lib/index.ts');
const { id, ending, move } = workerData;
const withView = shmat(id);
new Uint8Array(withView.buffer)[workerData.index] = 1;
const plain = shmat(id);
let moved;
if (move && typeof ArrayBuffer.prototype.transfer === 'function') moved = ArrayBuffer.prototype.transfer.call(withView.buffer);
globalThis.keep = [withView, plain];
parentPort.postMessage({ attached: true, moved }, moved ? [moved] : []);
if (ending === 'exit') process.exit(0);
if (ending === 'stay') setInterval(() => {}, 1000);
