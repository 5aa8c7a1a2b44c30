// Global setup: the suite fails if a System V object it created (a shared-memory segment, a semaphore set or a
// message queue) is still there at the end. Objects that existed before the run are left alone; leaked ones are
// reported, then removed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the report goes: $SYSV_SHM_LEAK_REPORT (CI names one per run of its matrix), or tmp/leak-report.json. */
export const LEAK_REPORT = process.env.SYSV_SHM_LEAK_REPORT || 'tmp/leak-report.json';

/** The three facilities as /proc/sysvipc names them, with ipcrm's option that removes one by id. */
const FACILITIES = [
  { file: 'shm', what: 'shared-memory segment', ipcrm: '-m' },
  { file: 'sem', what: 'semaphore set', ipcrm: '-s' },
  { file: 'msg', what: 'message queue', ipcrm: '-q' },
] as const;

interface LeakedObject {
  kind: (typeof FACILITIES)[number]['file'];
  id: number;
  /** The object's row of /proc/sysvipc/<kind>, as the kernel prints it. */
  row: string;
}

// Read straight from /proc (key and id are the first two columns of every file) so that this check does not depend
// on the library it checks.
function objects(): LeakedObject[] {
  const found: LeakedObject[] = [];
  for (const { file } of FACILITIES) {
    let text: string;
    try {
      text = readFileSync(`/proc/sysvipc/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 2) continue;
      found.push({ kind: file, id: Number(columns[1]), row: line.trim().replace(/\s+/g, ' ') });
    }
  }
  return found;
}

const identity = (o: LeakedObject) => `${o.kind}:${o.id}`;

export default function setup() {
  const before = new Set(objects().map(identity));
  mkdirSync(dirname(LEAK_REPORT), { recursive: true });
  writeFileSync(LEAK_REPORT, JSON.stringify({ leaked: [] }));
  return () => {
    const leaked = objects().filter((o) => !before.has(identity(o)));
    writeFileSync(LEAK_REPORT, JSON.stringify({ leaked }, null, 2));
    if (leaked.length === 0) return;
    for (const o of leaked) {
      try {
        execFileSync('ipcrm', [FACILITIES.find((f) => f.file === o.kind)!.ipcrm, String(o.id)]);
      } catch {
        // already gone
      }
    }
    throw new Error(
      `the test suite leaked ${leaked.length} System V object(s): ` +
        leaked.map((o) => `${FACILITIES.find((f) => f.file === o.kind)!.what} id ${o.id} (/proc/sysvipc/${o.kind}: ${o.row})`).join('; '),
    );
  };
}
