// Node binaries for the versions sysv-shm supports, from the npm registry (node-linux-<arch> packages), unpacked
// under .cache/node/<arch>-<version>/ and reused from there. Used by .ci/run, by scripts/ci/emulated.sh and by the
// package test, so that the matrix is written down once.
//
//   node scripts/ci/node-binaries.mjs [--arch x64|arm64|armv7l|ppc64le|...] [major...]
// prints one "<major> <path to bin/node>" line per version (default: every supported major).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node majors sysv-shm supports, oldest first; the last one is the newest LTS, which runs the full suite. */
export const SUPPORTED_MAJORS = [20, 22, 24, 26];
export const NEWEST_LTS = SUPPORTED_MAJORS.at(-1);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, '.cache/node');

const byVersion = (a, b) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

/** The cached binary of this major for this CPU, if any (the newest one there). */
function cached(major, arch) {
  if (!existsSync(CACHE)) return undefined;
  const versions = readdirSync(CACHE)
    .map((name) => new RegExp(`^${arch}-(${major}\\.\\d+\\.\\d+)$`).exec(name)?.[1])
    .filter(Boolean)
    .sort(byVersion);
  const version = versions.at(-1);
  return version && existsSync(join(CACHE, `${arch}-${version}`, 'bin/node')) ? join(CACHE, `${arch}-${version}`, 'bin/node') : undefined;
}

/**
 * Path of bin/node for the newest release of `major` for `arch`, fetched with `npm pack` (npm install refuses a
 * package for another CPU) unless already cached.
 */
export function nodeBinary(major, arch = 'x64') {
  const found = cached(major, arch);
  if (found) return found;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, '.fetch-'));
  try {
    const out = execFileSync('npm', ['pack', `node-linux-${arch}@${major}`, '--json', '--silent', '--pack-destination', work], { cwd: work, encoding: 'utf8' });
    const [{ filename, version }] = JSON.parse(out);
    const unpacked = join(work, 'package');
    execFileSync('tar', ['-xzf', join(work, filename), '-C', work]);
    renameSync(unpacked, join(CACHE, `${arch}-${version}`));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return cached(major, arch);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  let arch = 'x64';
  const archAt = args.indexOf('--arch');
  if (archAt >= 0) [arch] = args.splice(archAt, 2).slice(1);
  const majors = args.length ? args.map(Number) : SUPPORTED_MAJORS;
  for (const major of majors) console.log(`${major} ${nodeBinary(major, arch)}`);
}
