// A counter shared by several processes, incremented with Atomics.add: exact, without locks.
// Run: npx tsx scripts/examples/shared-counter.ts [processes] [increments]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';

if (process.argv[2] === 'worker') {
  const [id, increments] = process.argv.slice(3).map(Number);
  using attachment = Segment.fromId(id).attach();
  const counter = attachment.view(Int32Array, 0, 1);
  for (let i = 0; i < increments; i++) Atomics.add(counter, 0, 1);
} else {
  const processes = Number(process.argv[2] ?? 4);
  const increments = Number(process.argv[3] ?? 100_000);
  const segment = Segment.create({ size: 4 }).removeOnExit();
  using attachment = segment.attach();
  const workers = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'worker', String(segment.id), String(increments)], { stdio: 'inherit' }),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.on('exit', resolve))));
  const total = Atomics.load(attachment.view(Int32Array, 0, 1), 0);
  console.log(`${processes} processes x ${increments} increments = ${total} (expected ${processes * increments})`);
  if (total !== processes * increments) process.exitCode = 1;
}
