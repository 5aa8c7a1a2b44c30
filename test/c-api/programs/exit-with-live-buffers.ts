// Child program: ends while attachments and their buffers are alive, in the main thread and in a worker, with
// node:child_process loaded and a child process run: the situations in which Node 24 and 26 used to abort at exit
// (FATAL ERROR: v8::FromJust Maybe value is Nothing). Arguments: shmid, then how to end: 'natural' (the event loop
// empties), 'exit' (process.exit()), 'terminate' (the worker is terminated first, then natural exit).
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Segment, shmat } from '../../../lib/index.js';

const [id, ending] = [Number(process.argv[2]), process.argv[3]];
const attachment = shmat(id);
(globalThis as { keep?: unknown }).keep = [attachment, new Uint8Array(attachment.buffer), Segment.fromId(id).attach().bytes];
new Uint8Array(attachment.buffer)[0] = 1;
execFileSync('true');
const worker = new Worker(new URL('./attach-in-worker.mjs', import.meta.url), { workerData: id });
await new Promise((resolve) => worker.once('message', resolve));
if (ending === 'terminate') await worker.terminate();
else worker.unref();
console.log('ending ' + ending);
if (ending === 'exit') process.exit(0);
