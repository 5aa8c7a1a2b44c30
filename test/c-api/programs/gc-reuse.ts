// Child program: rounds of thousands of attachments dropped without detach, half of them with a view made.
// Garbage collection must detach all of them; the placeholders left where views were made are kept (never
// unmapped, see lib/c/address-space.ts) and reused by later rounds, so the mappings do not grow round after round.
// Run with --expose-gc. Argument: a segment id. Prints "results <json>".
import { readFileSync } from 'node:fs';
import { IPC_STAT, shmat, shmctl } from '../../../lib/index.js';
import { addressSpaceStats } from '../../../lib/c/address-space.js';

const id = Number(process.argv[2]);
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n');
const attached = () => shmctl(id, IPC_STAT).nattch;

const before = maps().length;
const rounds: Array<{ peak: number; after: number; sysv: number; growth: number; placeholders: number; free: number }> = [];
// In a function of its own, so that no stack slot of this module keeps the last attachment alive.
const attachAndDrop = () => {
  for (let i = 0; i < 3000; i++) {
    const attachment = shmat(id);
    if (i % 2) new Uint8Array(attachment.buffer)[i % 100] = 1; // half of them made a view
  }
};
for (let round = 0; round < 3; round++) {
  attachAndDrop();
  const peak = attached();
  for (let i = 0; i < 40 && attached() > 0; i++) {
    globalThis.gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lines = maps();
  const { placeholders, free } = addressSpaceStats();
  rounds.push({ peak, after: attached(), sysv: lines.filter((line) => line.includes('/SYSV')).length, growth: lines.length - before, placeholders, free });
}
console.log('results ' + JSON.stringify(rounds));
