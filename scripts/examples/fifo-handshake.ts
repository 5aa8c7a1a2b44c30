// The same handshake signalled through a named pipe (mkfifo) instead of a futex, for comparison: the writer fills
// the segment, then writes one byte to the FIFO; the reader blocks reading the FIFO and then reads the segment.
// It works between any two processes that can open the path, costs a syscall and a pipe wake-up per message on
// both sides, and leaves a file to clean up. See flag-handshake.ts for the futex version.
//
//   npx tsx scripts/examples/fifo-handshake.ts
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readSync, closeSync, writeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, shmat, shmctl, shmdt, shmget } from '../../lib/index.js';

const DATA = 64;

if (process.argv[2] === 'reader') {
  const [id, fifo] = [Number(process.argv[3]), process.argv[4]];
  const attachment = shmat(id);
  const fd = openSync(fifo, 'r'); // blocks until the writer opens its end
  const signal = Buffer.alloc(1);
  const t0 = performance.now();
  readSync(fd, signal, 0, 1, null); // blocks until the writer's byte arrives
  closeSync(fd);
  const length = new DataView(attachment.buffer).getUint32(DATA, true);
  const text = new TextDecoder().decode(new Uint8Array(attachment.buffer, DATA + 4, length));
  console.log(`reader (pid ${process.pid}): got signal byte ${signal[0]} after ${(performance.now() - t0).toFixed(1)} ms, read ${JSON.stringify(text)}`);
  shmdt(attachment);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-fifo-'));
  const fifo = join(dir, 'ready');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
  const attachment = shmat(id);
  shmctl(id, IPC_RMID);
  const reader = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'reader', String(id), fifo], { stdio: 'inherit' });
  console.log(`writer (pid ${process.pid}): segment ${id}, FIFO ${fifo}, reader pid ${reader.pid}`);
  setTimeout(() => {
    const bytes = new TextEncoder().encode(`hello through a FIFO-signalled segment from ${process.pid}`);
    new DataView(attachment.buffer).setUint32(DATA, bytes.length, true);
    new Uint8Array(attachment.buffer, DATA + 4).set(bytes);
    // The write to the pipe orders the data before the signal: the reader's read returns after it.
    const fd = openSync(fifo, 'w');
    writeSync(fd, Buffer.from([1]));
    closeSync(fd);
    console.log('writer: data written, one byte sent through the FIFO');
  }, 300);
  reader.on('exit', (code) => {
    shmdt(attachment);
    rmSync(dir, { recursive: true, force: true });
    console.log(`writer: reader exited with ${code}; FIFO removed, segment detached by both and removed by the kernel`);
  });
}
