// The channel's 64-byte ping-pong on every supported Node version, beside the C ring and the C floor, measured
// side by side in one run: rounds alternate between the C transports and each version, and each cell is the
// median over the rounds. Every measurement is a session of the one harness (bench/sweep.ts, the `floor` preset's
// transports): the JavaScript ends run on the version's binary (`--node`), the C ones do not depend on it.
//
//   unshare --ipc --fork npx tsx bench/node-versions.ts [--rounds N] [--waits spin,futex] [--pin cross|none] [--json FILE]
//
// Node binaries come from the npm registry (scripts/ci/node-binaries.mjs, cached in .cache/node).
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runSweep, type PinMode, type SweepOptions, type SweepOutput } from './sweep.js';
import { median } from './patterns/common.js';
import { variantOf, fmtNs, textTable } from './report/format.js';
import { writeFile } from './report/write.js';
import { WAITS, type WaitStrategy } from './transports/types.js';
// @ts-expect-error a plain JavaScript module of the CI scripts, without declarations
import { SUPPORTED_MAJORS, nodeBinary } from '../scripts/ci/node-binaries.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    waits: { type: 'string', default: 'spin' },
    repeat: { type: 'string', default: '3' },
    'rep-ms': { type: 'string', default: '60' },
    pin: { type: 'string', default: cpus().length >= 2 ? 'cross' : 'none' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const waits = values.waits!.split(',') as WaitStrategy[];
for (const w of waits) if (!WAITS.includes(w)) throw new RangeError(`--waits: unknown wait strategy '${w}'`);
const pin = values.pin as PinMode;
if (pin === 'same' && waits.includes('spin')) throw new Error('spin ping-pong on one CPU waits for the scheduler: use --pin cross or none, or --waits futex');

const base: SweepOptions = {
  transports: [],
  patterns: ['pingpong'],
  throughputSizes: [],
  pingpongSizes: [64],
  modes: ['copy'],
  waits,
  repeat: Number(values.repeat),
  repSeconds: Number(values['rep-ms']) / 1000,
  rounds: 1,
  pin: [pin],
  baselines: false,
  callCostScale: 0,
};

const nodes = (SUPPORTED_MAJORS as number[]).map((major) => ({ major, path: nodeBinary(major) as string }));
const runs: Array<{ round: number; node: string | null; output: SweepOutput }> = [];
for (let round = 0; round < rounds; round++) {
  process.stderr.write(`round ${round + 1}/${rounds}: C`);
  runs.push({ round, node: null, output: await runSweep({ ...base, transports: ['c-ring', 'c-bare'] }) });
  for (const { path } of nodes) {
    const output = await runSweep({ ...base, transports: ['shm', 'js-bare'], node: path });
    process.stderr.write(`, Node ${output.options.node}`);
    runs.push({ round, node: output.options.node, output });
  }
  process.stderr.write('\n');
}
const failures = runs.flatMap((r) => r.output.errors.map((e) => `${r.node ?? 'C'}: ${e.transport} ${e.wait ?? ''}: ${e.name}: ${e.message}`));
for (const s of runs[0]?.output.skipped ?? []) failures.push(`${s.transport}: ${s.reason}`);

/** p50 round trips per round of one variant, on one Node version (null: the C transports). */
function p50s(node: string | null, variant: string): number[] {
  return runs.filter((r) => r.node === node).flatMap((r) => r.output.results.filter((x) => variantOf(x) === variant).map((x) => x.rttNs!.p50));
}

const first = runs[0].output;
console.log(
  `64 B ping-pong, p50 round trip, median of ${rounds} alternating rounds (${base.repeat} repetitions of ~${values['rep-ms']} ms each); ` +
    `${first.host.cpus} x ${first.host.cpuModel}, Linux ${first.host.kernel}; ${pin === 'cross' ? 'driver on CPU 0, peer on CPU 1 (taskset)' : pin}; C: ${first.options.compiler ?? 'not built'}`,
);
const rows: string[][] = [];
for (const wait of waits) {
  const ring = median(p50s(null, `c-ring ${wait}`));
  const cells = (values: number[]) => (values.length ? [fmtNs(median(values)), values.map((v) => fmtNs(v)).join(' / ')] : ['-', '-']);
  rows.push([wait, 'c-ring (C)', ...cells(p50s(null, `c-ring ${wait}`)), '1.00x']);
  const floor = p50s(null, `c-bare ${wait}`);
  if (floor.length) rows.push([wait, 'c-bare (C floor)', ...cells(floor), `${(median(floor) / ring).toFixed(2)}x`]);
  for (const version of [...new Set(runs.map((r) => r.node).filter((n): n is string => n !== null))]) {
    const shm = p50s(version, `shm ${wait}`);
    rows.push([wait, `shm, Node ${version}`, ...cells(shm), `${(median(shm) / ring).toFixed(2)}x`]);
    const bare = p50s(version, `js-bare ${wait}`);
    if (bare.length) rows.push([wait, `js-bare, Node ${version}`, ...cells(bare), `${(median(bare) / ring).toFixed(2)}x`]);
  }
}
console.log(textTable(['wait', 'case', 'p50 RTT', 'per round', 'of c-ring'], rows));
if (failures.length) {
  console.log(`\nFAILED:\n${failures.join('\n')}`);
  process.exitCode = 1;
}
if (values.json) writeFile(resolve(values.json), `${JSON.stringify(runs, null, 2)}\n`);
