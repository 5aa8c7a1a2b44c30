// Global setup: the suite fails if a SysV segment created while it ran is still there at the end.
// Segments that existed before the run are left alone; leaked ones are reported, then removed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readProcShm } from '../../lib/internal.js';

/** Where the report goes: $SYSV_SHM_LEAK_REPORT (CI names one per run of its matrix), or tmp/leak-report.json. */
export const LEAK_REPORT = process.env.SYSV_SHM_LEAK_REPORT || 'tmp/leak-report.json';

function ids(): Set<number> {
  return new Set((readProcShm() ?? []).map((row) => row.shmid));
}

export default function setup() {
  const before = ids();
  mkdirSync(dirname(LEAK_REPORT), { recursive: true });
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
