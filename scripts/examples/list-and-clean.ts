// The system-wide view: list segments like ipcs -m, show limits and usage, find and remove orphans.
// Run: npx tsx scripts/examples/list-and-clean.ts [--remove-orphans]
import { Segment, limits, list, orphans, remove, summary } from '../../lib/index.js';

const demo = Segment.create({ size: 10_000, mode: 0o640 }).removeOnExit();
const attachment = demo.attach();

console.table(
  list().map((s) => ({
    key: s.keyHex,
    id: s.id,
    owner: s.uid,
    mode: s.mode.toString(8),
    bytes: s.size,
    attached: s.attached,
    status: [s.markedForRemoval && 'dest', s.locked && 'locked'].filter(Boolean).join(' '),
  })),
);
const l = limits();
console.log(`limits: max ${l.shmmni} segments, max segment ${l.shmmax} bytes, max total ${l.shmallBytes} bytes`);
const u = summary();
console.log(`in use: ${u.segments} segments, ${u.pagesAllocated} pages allocated, ${u.pagesResident} resident`);

const found = orphans();
console.log(`orphans (unattached, creator and last user gone): ${found.map((s) => s.id).join(', ') || 'none'}`);
if (process.argv.includes('--remove-orphans')) for (const s of found) remove({ id: s.id });

attachment.detach();
demo.remove();
