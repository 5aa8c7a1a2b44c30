// The flag-word handshake done right: the writer fills the segment, then publishes a flag with Atomics.store and
// wakes the reader with notify(); the reader sleeps in wait() (a futex) instead of polling, and reads the data
// only after it has seen the flag. Two processes: this one writes, a child reads.
//
//   npx tsx scripts/examples/flag-handshake.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, notify, shmat, shmctl, shmdt, shmget, wait } from '../../lib/index.js';

const FLAG = 0; // Int32 index of the flag word; the data starts at byte 64 (its own cache line)
const DATA = 64;
const EMPTY = 0;
const READY = 1;
const DONE = 2;

if (process.argv[2] === 'reader') {
  const attachment = shmat(Number(process.argv[3]));
  const words = new Int32Array(attachment.buffer);
  // Sleep until the flag leaves EMPTY; wait() returns at once ('not-equal') if it already has.
  while (Atomics.load(words, FLAG) === EMPTY) wait(words, FLAG, EMPTY, 10_000);
  const length = new DataView(attachment.buffer).getUint32(DATA, true);
  const text = new TextDecoder().decode(new Uint8Array(attachment.buffer, DATA + 4, length));
  console.log(`reader (pid ${process.pid}): flag is READY, read ${length} bytes: ${JSON.stringify(text)}`);
  Atomics.store(words, FLAG, DONE);
  notify(words, FLAG);
  shmdt(attachment);
} else {
  const id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
  const attachment = shmat(id);
  shmctl(id, IPC_RMID); // gone with the last detach, whatever happens to either process
  const words = new Int32Array(attachment.buffer);
  const reader = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'reader', String(id)], { stdio: 'inherit' });
  console.log(`writer (pid ${process.pid}): segment ${id}, reader started (pid ${reader.pid})`);
  setTimeout(() => {
    // 1. The data, with plain writes.
    const text = `hello from ${process.pid} at ${new Date().toISOString()}`;
    const bytes = new TextEncoder().encode(text);
    new DataView(attachment.buffer).setUint32(DATA, bytes.length, true);
    new Uint8Array(attachment.buffer, DATA + 4).set(bytes);
    // 2. The flag, with an atomic store: everything written before it is visible to whoever sees the flag.
    Atomics.store(words, FLAG, READY);
    // 3. Wake the reader if it sleeps (0 if it had not gone to sleep yet: it will see the flag without sleeping).
    console.log(`writer: data written, flag set, notify woke ${notify(words, FLAG)} waiter(s)`);
    // 4. Wait for the reader's answer on the same word.
    while (Atomics.load(words, FLAG) === READY) wait(words, FLAG, READY, 10_000);
    console.log(`writer: the reader answered DONE`);
  }, 300);
  reader.on('exit', (code) => {
    shmdt(attachment);
    console.log(`writer: reader exited with ${code}; segment detached by both, so the kernel removed it`);
  });
}
