/**
 * Generates lib/abi/targets/<target>.ts (one per target) and
 * lib/abi/targets/index.ts from scripts/abi/probe.c, by compiling the probe
 * with each target's C compiler (`-c` only, nothing is run) and reading the
 * answers out of the object files. See scripts/abi/README.md.
 *
 * Usage:
 *   bash scripts/abi/install-cross-compilers.sh     # once, as root
 *   bash scripts/abi/debian13-chroot.sh             # once, as root: loong64 compiler (Debian 13 chroot)
 *   npx tsx scripts/abi/generate.ts                 # regenerate every target
 *   npx tsx scripts/abi/generate.ts linux-arm64-gnu # regenerate some targets
 *   npx tsx scripts/abi/generate.ts --check         # host target, host `cc`, vs the committed file
 *   npx tsx scripts/abi/generate.ts --check linux-x64-musl  # a target with its configured compiler
 *
 * --check exits 1 and prints every differing field when the committed table
 * does not match what the compiler says now.
 */
import { writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, UNAVAILABLE, compareDescriptions, probeTarget, renderRegistry, renderTargetFile, type TargetConfig } from './probe-runner.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'lib', 'abi', 'targets');

function configFor(name: string): TargetConfig {
  const c = TARGETS.find((t) => t.name === name);
  if (!c) {
    const why = UNAVAILABLE[name];
    throw new Error(why ?? `unknown target ${name}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
  }
  return c;
}

async function check(names: string[]): Promise<number> {
  const { hostTarget } = await import('../../lib/abi/index.js');
  const { targets } = await import('../../lib/abi/targets/index.js');
  const host = names.length === 0;
  const list = host ? [hostTarget()] : names;
  let failed = 0;
  for (const name of list) {
    const committed = targets[name];
    if (!committed) {
      console.error(`${name}: no committed table in lib/abi/targets/`);
      failed++;
      continue;
    }
    const probed = probeTarget(configFor(name), host ? { cc: 'cc' } : {});
    const diffs = compareDescriptions(committed, probed);
    if (diffs.length) {
      failed++;
      console.error(`${name}: ${diffs.length} difference(s) between lib/abi/targets/${name}.ts and ${probed.provenance.compiler}:`);
      for (const d of diffs) console.error(`  ${d}`);
    } else {
      console.log(`${name}: committed table matches ${probed.provenance.compiler}`);
    }
  }
  return failed ? 1 : 0;
}

function generate(names: string[]): void {
  const configs = names.length ? names.map(configFor) : [...TARGETS];
  for (const config of configs) {
    const d = probeTarget(config);
    writeFileSync(join(OUT, `${config.name}.ts`), renderTargetFile(d));
    console.log(`${config.name}: ${d.provenance.compiler}; ${d.provenance.libcHeaders}; ${d.provenance.kernelHeaders}`);
    for (const n of d.notes) console.log(`  note: ${n}`);
  }
  // The registry lists every table present, so regenerating a subset keeps the rest.
  const present = readdirSync(OUT)
    .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
    .map((f) => f.slice(0, -3));
  for (const stale of present.filter((t) => !TARGETS.some((c) => c.name === t))) {
    unlinkSync(join(OUT, `${stale}.ts`));
    console.log(`${stale}: removed (no longer a configured target)`);
  }
  writeFileSync(join(OUT, 'index.ts'), renderRegistry(present.filter((t) => TARGETS.some((c) => c.name === t))));
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npx tsx scripts/abi/generate.ts [--check] [target...]');
  process.exit(0);
}
const names = args.filter((a) => !a.startsWith('--'));
if (args.includes('--check')) {
  process.exit(await check(names));
} else {
  generate(names);
}
