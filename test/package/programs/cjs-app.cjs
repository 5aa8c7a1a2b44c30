// A consumer of the installed package, as CommonJS: require() of the ES module package (Node 20.19+, 22.12+).
// Same checks as esm-app.mjs. Prints "made <id>" for the segment it creates and "results <json>".
const { execFileSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { join } = require('node:path');
const { Segment, ShmError, shmctl, IPC_STAT } = require('sysv-shm');

const segment = Segment.create({ size: 4096 });
console.log('made ' + segment.id);
const attachment = segment.attach();
attachment.write('from cjs', 100);
let error;
try {
  Segment.fromId(2 ** 31 - 1);
} catch (caught) {
  error = { isShmError: caught instanceof ShmError, code: caught.code };
}
execFileSync('true');
const worker = new Worker(join(__dirname, 'worker.mjs'), { workerData: segment.id });
worker.once('message', (fromWorker) => {
  worker.unref();
  globalThis.kept = [attachment, attachment.bytes];
  const nattch = shmctl(segment.id, IPC_STAT).nattch;
  segment.remove();
  console.log('results ' + JSON.stringify({ read: attachment.readString(100), fromWorker, nattch, error, node: process.versions.node }));
});
