// `npm run bench`: until the benchmark runner lands, a two-process writer/reader demo and the per-call costs.
import { cpus } from 'node:os';
import { measureCallCosts } from './call-costs.js';
import { runDemo } from './demo.js';

const quick = process.argv.includes('--quick');
console.log(`sysv-shm bench on ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, placement: not pinned`);

const demo = await runDemo(quick ? 5_000 : 20_000, 4096);
console.log(
  `writer -> reader, ${demo.messages} messages of ${demo.messageSize} B through one segment with a spin flag: ` +
    `${Math.round(demo.messagesPerSec).toLocaleString('en')} msg/s, ${(demo.bytesPerSec / 2 ** 20).toFixed(1)} MiB/s (checksums verified)`,
);

console.log('\nper-call cost (median of 15 batches, ns per call):');
console.table(
  measureCallCosts(quick ? 0.2 : 1).map((c) => ({ call: c.name, median: Math.round(c.medianNs), p10: Math.round(c.p10Ns), p90: Math.round(c.p90Ns) })),
);
