import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The dependency rule of docs/layers.md, as the linter enforces it: each case is a one-line file at a path in a
// scratch copy of the layout, linted with the repository's biome.json.
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sysv-shm-layers-'));
copyFileSync(join(ROOT, 'biome.json'), join(scratch, 'biome.json'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The rules that fire on `file` holding `import * as m from 'specifier'`. */
function restricted(file: string, specifier: string): boolean {
  const path = join(scratch, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `import * as m from '${specifier}';\n\nexport const used = m;\n`);
  const biome = join(ROOT, 'node_modules/.bin/biome');
  const run = spawnSync(biome, ['lint', '--vcs-enabled=false', '--reporter=json', file], { cwd: scratch, encoding: 'utf8' });
  rmSync(path);
  const report = JSON.parse(run.stdout) as { diagnostics: Array<{ category: string }> };
  return report.diagnostics.some((d) => d.category === 'lint/style/noRestrictedImports');
}

const cases: Array<[file: string, specifier: string, allowed: boolean]> = [
  ['lib/segment/probe.ts', '../c/index.js', true],
  ['lib/segment/probe.ts', '../common/arguments.js', true],
  ['lib/segment/probe.ts', '../c/shmat.js', false],
  ['lib/segment/probe.ts', '../native/libc.js', false],
  ['lib/segment/probe.ts', '../sync/futex.js', false],
  ['lib/system/probe.ts', '../segment/status.js', true],
  ['lib/system/probe.ts', '../native/procfs.js', false],
  ['lib/sync/probe.ts', '../c/index.js', true],
  ['lib/sync/channel/probe.ts', '../../c/index.js', true],
  ['lib/sync/channel/probe.ts', '../../native/syscall.js', false],
  ['lib/sync/channel/probe.ts', '../../c/attachment.js', false],
  ['lib/sync/probe.ts', '../segment/segment.js', false],
  ['lib/sync/mailbox/probe.ts', '../channel/receiver.js', true],
  ['lib/sync/mailbox/probe.ts', '../../c/index.js', true],
  ['lib/sync/mailbox/probe.ts', '../../native/syscall.js', false],
  ['lib/sync/channel/probe.ts', '../mailbox/lanes.js', false],
  ['lib/sync/channel/probe.ts', '../topic/index.js', false],
  ['lib/sync/probe.ts', './mailbox/index.js', false],
  ['lib/sync/probe.ts', '../index.js', false],
  ['lib/semaphore/probe.ts', '../c/index.js', true],
  ['lib/semaphore/probe.ts', '../sysv-wait/index.js', true],
  ['lib/semaphore/probe.ts', '../common/timers.js', true],
  ['lib/semaphore/probe.ts', '../c/semop.js', false],
  ['lib/semaphore/probe.ts', '../native/libc.js', false],
  ['lib/semaphore/probe.ts', '../sync/abort.js', false],
  ['lib/semaphore/probe.ts', '../queue/message-queue.js', false],
  ['lib/queue/probe.ts', '../c/index.js', true],
  ['lib/queue/probe.ts', '../sysv-wait/poller.js', true],
  ['lib/queue/probe.ts', '../c/msgrcv.js', false],
  ['lib/queue/probe.ts', '../semaphore/index.js', false],
  ['lib/queue/probe.ts', '../index.js', false],
  ['lib/sysv-wait/probe.ts', '../c/index.js', true],
  ['lib/sysv-wait/probe.ts', '../native/signals.js', false],
  ['lib/sysv-wait/probe.ts', '../semaphore/index.js', false],
  ['lib/c/probe.ts', '../sysv-wait/poller.js', false],
  ['lib/native/probe.ts', '../semaphore/index.js', false],
  ['lib/c/probe.ts', '../native/libc.js', true],
  ['lib/c/probe.ts', '../segment/segment.js', false],
  ['lib/native/probe.ts', '../abi/index.js', true],
  ['lib/native/probe.ts', '../c/shmat.js', false],
  ['lib/common/probe.ts', '../native/libc.js', false],
  ['lib/abi/probe.ts', '../c/index.js', false],
  ['lib/cli/probe.ts', '../index.js', true],
  ['lib/cli/probe.ts', '../native/libc.js', false],
  ['test/probe.test.ts', '../lib/index.js', true],
  ['test/probe.test.ts', '../lib/internal.js', true],
  ['test/probe.test.ts', '../lib/c/shmat.js', false],
  ['test/fixtures/sync/probe.ts', '../../../lib/sync/futex.js', false],
  ['bench/probe.ts', '../lib/native/koffi.js', false],
  ['scripts/examples/probe.ts', '../../lib/index.js', true],
];

describe('the layer rule (docs/layers.md), as npm run lint enforces it', () => {
  it.each(cases)('%s importing %s: allowed %s', (file, specifier, allowed) => {
    expect(restricted(file, specifier)).toBe(!allowed);
  });
});
