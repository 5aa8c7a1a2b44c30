// Writer/reader with a flag word across two processes, with the Segment API. The reader waits for the flag
// with Atomics.load (polling; the wait/notify example shows how to sleep instead), then acknowledges.
// Run: npx tsx scripts/examples/flag-byte.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';

const READY = 0; // word 0: 0 = empty, 1 = message ready, 2 = read
const TEXT_AT = 64;

if (process.argv[2] === 'reader') {
  const segment = Segment.fromId(Number(process.argv[3]));
  using attachment = segment.attach();
  const flags = attachment.view(Int32Array, 0, 1);
  while (Atomics.load(flags, READY) !== 1) await new Promise((resolve) => setTimeout(resolve, 1));
  console.log(`reader (pid ${process.pid}): ${attachment.readString(TEXT_AT)}`);
  Atomics.store(flags, READY, 2);
} else {
  const segment = Segment.create({ size: 4096 }).removeOnExit();
  using attachment = segment.attach();
  const reader = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'reader', String(segment.id)], { stdio: 'inherit' });
  // Once both processes are attached, remove: the kernel destroys it at the last detach, even after a SIGKILL.
  await segment.removeOnceAttached(2);
  attachment.write('hello through shared memory\0', TEXT_AT);
  const flags = attachment.view(Int32Array, 0, 1);
  Atomics.store(flags, READY, 1);
  while (Atomics.load(flags, READY) !== 2) await new Promise((resolve) => setTimeout(resolve, 1));
  console.log(`writer (pid ${process.pid}): reader acknowledged`);
  await new Promise((resolve) => reader.on('exit', resolve));
}
