// Global setup: the suite fails if a SysV segment created while it ran is still there at the end.
// Segments that existed before the run are left alone; leaked ones are reported, then removed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readProcShm } from '../../lib/native/procfs.js';

export const LEAK_REPORT = 'tmp/leak-report.json';

function ids(): Set<number> {
  return new Set((readProcShm() ?? []).map((row) => row.shmid));
}

export default function setup() {
  const before = ids();
  mkdirSync('tmp', { recursive: true });
  writeFileSync(LEAK_REPORT, JSON.stringify({ leaked: [] }));
  return () => {
    const leaked = (readProcShm() ?? []).filter((row) => !before.has(row.shmid));
    writeFileSync(LEAK_REPORT, JSON.stringify({ leaked }, null, 2));
    if (leaked.length === 0) return;
    for (const row of leaked) {
      try {
        execFileSync('ipcrm', ['-m', String(row.shmid)]);
      } catch {
        // already gone
      }
    }
    throw new Error(
      `the test suite leaked ${leaked.length} shared-memory segment(s): ` +
        leaked.map((r) => `shmid ${r.shmid} key 0x${(r.key >>> 0).toString(16)} size ${r.size} cpid ${r.cpid}`).join('; '),
    );
  };
}
