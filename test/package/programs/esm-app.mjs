// A consumer of the installed package, as an ES module, run with plain Node (no tsx) on every supported version.
// It ends with attachments alive in the main thread and in a worker, and node:child_process loaded: Node 24 and 26
// used to abort at exit then. Prints "made <id>" for the segment it creates and "results <json>".
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Channel, IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_STAT, Segment, shmat, shmctl, shmdt, shmget } from 'sysv-shm';

const segment = Segment.create({ size: 4096 });
console.log('made ' + segment.id);
const attachment = segment.attach();
attachment.write('from esm', 100);

const id = shmget(IPC_PRIVATE, 5000, IPC_CREAT | 0o600);
console.log('made ' + id);
const raw = shmat(id);
new Uint8Array(raw.buffer)[0] = 42;
const segsz = shmctl(id, IPC_STAT).segsz;
shmdt(raw);
shmctl(id, IPC_RMID);

const producer = Channel.create({ capacity: 4096 });
console.log('made ' + producer.id);
const consumer = Channel.open(producer.id);
producer.send(new TextEncoder().encode('over the channel'));
const message = new TextDecoder().decode(consumer.receive({ timeoutMs: 1000 }));
consumer.close();
producer.close();

execFileSync('true');
const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: segment.id });
const fromWorker = await new Promise((resolve) => worker.once('message', resolve));
worker.unref();

globalThis.kept = [attachment, attachment.bytes];
segment.remove(); // destroyed at the last detach: when this process ends
console.log('results ' + JSON.stringify({ read: attachment.readString(100), segsz, message, fromWorker, node: process.versions.node }));
