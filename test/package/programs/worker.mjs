// Worker for esm-app.mjs and cjs-app.cjs: attaches the segment, reads what the main thread wrote, keeps the
// attachment, and stays until the process ends.
import { parentPort, workerData } from 'node:worker_threads';
import { Segment } from 'sysv-shm';

const attachment = Segment.fromId(workerData).attach();
globalThis.kept = [attachment, attachment.bytes];
parentPort.postMessage(attachment.readString(100));
setInterval(() => {}, 1000);
