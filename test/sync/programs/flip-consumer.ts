// Child program: both ends of `count` channels of 64 bytes, one after the other, while test/sync/programs/flipper.ts
// (another process) flips the length word of the current one's only record between 56 (what was sent) and 64 MiB.
// A record of 56 bytes fills the whole ring, so every record starts at ring offset 0. The consumer reads the
// length once: it must either deliver exactly the 56 bytes sent or fail with EPROTO, never anything longer.
//   prints "control <shmid>" (a small segment whose word 0 holds the id of the channel in use, -1 at the end),
//   waits for a line on stdin, then prints "results <json>".
// Arguments: count (channels, at least), rounds (messages per channel at most), hits and budgetMs: go on past
// `count` channels until the flipper has reached `hits` reads (EPROTO), for at most budgetMs (on a loaded machine
// the two processes run in parallel only now and then).
import { Channel, IPC_CREAT, IPC_PRIVATE, IPC_RMID, shmat, shmctl, shmget } from '../../../lib/index.js';

const [count, rounds, hits, budgetMs] = process.argv.slice(2).map(Number);
const controlId = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
const control = new Int32Array(shmat(controlId).buffer);
shmctl(controlId, IPC_RMID); // gone with the last detach, whatever happens
console.log(`control ${controlId}`);
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy(); // nothing more to read: let the process end with its work

const payload = Uint8Array.from({ length: 56 }, (_, k) => k + 1);
const target = new Uint8Array(1 << 16);
const results = { channels: 0, delivered: 0, eproto: 0, other: {} as Record<string, number>, lengths: {} as Record<number, number>, intact: 0, maxLength: 0, arrayBuffersPeak: 0 };
const seen = (length: number, bytes: Uint8Array) => {
  results.delivered++;
  results.lengths[length] = (results.lengths[length] ?? 0) + 1;
  results.maxLength = Math.max(results.maxLength, length);
  if (length === 56 && bytes.every((b, k) => b === k + 1)) results.intact++;
  results.arrayBuffersPeak = Math.max(results.arrayBuffersPeak, process.memoryUsage().arrayBuffers);
};
const started = performance.now();
for (let c = 0; c < count || (results.eproto < hits && performance.now() - started < budgetMs); c++) {
  const producer = Channel.create({ capacity: 64 });
  const consumer = Channel.open(producer.id);
  results.channels++;
  Atomics.store(control, 0, producer.id);
  try {
    for (let r = 0; r < rounds; r++) {
      producer.send(payload, { timeoutMs: 1000 });
      // Alternate the three ways a length turns into a copy or a view.
      const way = (c + r) % 3;
      if (way === 0) {
        const got = consumer.receive({ timeoutMs: 1000 })!;
        seen(got.length, got);
      } else if (way === 1) {
        const n = consumer.receiveInto(target, { timeoutMs: 1000 })!;
        seen(n, target.subarray(0, n));
      } else {
        const view = consumer.peek({ timeoutMs: 1000 })!;
        seen(view.length, view);
        consumer.release();
      }
    }
  } catch (error) {
    const code = (error as { code?: string; name?: string }).code ?? (error as Error).name;
    if (code === 'EPROTO') results.eproto++;
    else results.other[code] = (results.other[code] ?? 0) + 1;
  } finally {
    consumer.close();
    producer.close();
  }
}
Atomics.store(control, 0, -1);
console.log(`results ${JSON.stringify(results)}`);
