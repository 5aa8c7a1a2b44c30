// The 64-byte spin ping-pong of the channel on every supported Node version, beside the C reference, measured
// side by side in one run: rounds alternate between the versions and C, and each cell is the median over rounds.
//
//   npx tsx bench/node-versions.ts [--rounds N] [--iterations N] [--pin same|cross|none]
//
// Node binaries come from the npm registry (scripts/ci/node-binaries.mjs, cached in .cache/node). Each version
// runs the measurement of bench/channel-quick.ts in a process of its own (both ends of the ping-pong run on that
// version).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuPlacement, measureCPingPong, measurePingPong, setPlacement, type PingPongResult } from './channel-quick.js';
import { median } from './patterns/common.js';
// @ts-expect-error a plain JavaScript module of the CI scripts, without declarations
import { SUPPORTED_MAJORS, nodeBinary } from '../scripts/ci/node-binaries.mjs';

const SELF = fileURLToPath(import.meta.url);

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

type Placement = 'same' | 'cross' | 'none';

async function child(iterations: number, where: Placement): Promise<void> {
  setPlacement(where);
  const result = await measurePingPong({ mode: 'spin', iterations });
  console.log('result ' + JSON.stringify({ node: process.version, p50Ns: result.p50Ns, p99Ns: result.p99Ns }));
}

function measureOn(node: string, iterations: number, where: Placement): { node: string; p50Ns: number; p99Ns: number } {
  const run = spawnSync(node, ['--import', 'tsx', SELF, '--measure', '--iterations', String(iterations), '--pin', where], { encoding: 'utf8', timeout: 300_000 });
  const line = /^result (.*)$/m.exec(run.stdout);
  if (!line) throw new Error(`${node} failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(line[1]);
}

async function main(): Promise<void> {
  const rounds = Number(option('--rounds', '3'));
  const iterations = Number(option('--iterations', '100000'));
  const where = option('--pin', cpus().length >= 2 ? 'cross' : 'none') as Placement;
  if (where === 'same') throw new Error('spin ping-pong on one CPU waits for the scheduler: use --pin cross or none');
  setPlacement(where);
  const nodes = (SUPPORTED_MAJORS as number[]).map((major) => ({ major, path: nodeBinary(major) as string }));
  console.log(`64 B spin ping-pong, channel on each Node vs C; ${cpuPlacement()}; ${rounds} alternating rounds of ${iterations} round trips`);

  const js = new Map<number, Array<{ node: string; p50Ns: number; p99Ns: number }>>(nodes.map((n) => [n.major, []]));
  const c: PingPongResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const reference = measureCPingPong('spin', iterations);
    if (!reference) throw new Error('the C reference needs gcc');
    c.push(reference);
    for (const { major, path } of nodes) js.get(major)!.push(measureOn(path, iterations, where));
  }
  const cP50 = median(c.map((r) => r.p50Ns));
  console.table([
    { case: 'C (bench/c/pingpong.c)', 'p50 RTT ns': Math.round(cP50), 'per round': c.map((r) => Math.round(r.p50Ns)).join(' / '), 'ratio to C': '1.00x' },
    ...nodes.map(({ major }) => {
      const results = js.get(major)!;
      const p50 = median(results.map((r) => r.p50Ns));
      return {
        case: `channel, Node ${results[0].node}`,
        'p50 RTT ns': Math.round(p50),
        'per round': results.map((r) => Math.round(r.p50Ns)).join(' / '),
        'ratio to C': `${(p50 / cP50).toFixed(2)}x`,
      };
    }),
  ]);
}

if (process.argv.includes('--measure')) await child(Number(option('--iterations', '100000')), option('--pin', 'none') as Placement);
else if (process.argv[1] === SELF) await main();
