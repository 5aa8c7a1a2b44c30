// Child program: workers attach a segment and end in every way a worker ends; their attachments must be detached
// when they end. Argument: a segment id. Prints "results <json>".
import { Worker } from 'node:worker_threads';
import { IPC_STAT, shmctl } from '../../../lib/index.js';

const id = Number(process.argv[2]);
const nattch = () => shmctl(id, IPC_STAT).nattch;
const WORKER = new URL('./worker-attacher.mjs', import.meta.url);

async function run(ending: 'natural' | 'exit' | 'stay', index: number, move = false) {
  const worker = new Worker(WORKER, { workerData: { id, ending, index, move } });
  const message = await new Promise<{ moved?: ArrayBuffer }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  if (ending === 'stay') await worker.terminate();
  await exited;
  return message.moved;
}

const endings = ['natural', 'exit', 'stay'] as const;
await Promise.all(Array.from({ length: 20 }, (_, i) => run(endings[i % 3], i)));
// The 'exit' event of a worker is where its creator detaches what it left: give the listeners a turn.
await new Promise((resolve) => setImmediate(resolve));
const afterTwenty = nattch();

// A worker moved its view's memory here, then was terminated: the moved buffer still reads and writes harmlessly.
const moved = await run('stay', 0, true);
await new Promise((resolve) => setImmediate(resolve));
let movedAfter: number[] | null = null;
if (moved) {
  const bytes = new Uint8Array(moved);
  movedAfter = [bytes[0], bytes.length];
  bytes.fill(3);
}
console.log('results ' + JSON.stringify({ afterTwenty, afterMove: nattch(), movedAfter }));
