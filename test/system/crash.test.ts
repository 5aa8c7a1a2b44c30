// Crashes and exits: what the kernel and the library leave behind when processes die. Every death happens in a
// child process (node --import tsx); the test runner only watches /proc/sysvipc/shm and the children's exit status.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { killChildren, recordProgram } from '../support/child.js';

/** Starts test/fixtures/system/<name>.ts. */
const spawnChild = (name: string, args: Array<string | number> = []) =>
  recordProgram(fileURLToPath(new URL(`../fixtures/system/${name}.ts`, import.meta.url)), args);
afterEach(killChildren);

/** Waits (briefly) until the condition holds; the kernel's bookkeeping is done by the time waitpid returns, this only absorbs scheduling noise. */
async function eventually(condition: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** How a child that created a segment ends (test/fixtures/system/create-then-end.ts). */
type Ending = 'stay' | 'end' | 'exit' | 'exit-code-3' | 'throw' | 'throw-later' | 'reject';

/** A child that creates a segment (with or without removeOnExit), attaches it, prints its id, then ends as told. */
function creatorChild(options: { removeOnExit: boolean; ending: Ending }) {
  return spawnChild('create-then-end', [options.removeOnExit ? 'remove-on-exit' : 'keep', options.ending]);
}

describe('SIGKILL', () => {
  it('of a child holding attachments drops nattch by that child’s attachments', async () => {
    const segment = Segment.create({ size: 4096 });
    removeAfterTest(segment.id);
    using mine = segment.attach();
    mine.write('parent');

    const { child, exit, line } = spawnChild('attach-twice-and-stay', [segment.id]);
    const [, seen] = await line(/attached (\d+)/);
    expect(Number(seen)).toBe(3);
    expect(procRow(segment.id)!.nattch).toBe(3);
    expect(segment.numberAttached).toBe(3);

    child.kill('SIGKILL');
    expect(await exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(await eventually(() => procRow(segment.id)?.nattch === 1)).toBe(true);
    const status = segment.stat();
    expect(status.attached).toBe(1);
    expect(status.lastPid).toBe(child.pid); // the kernel detached the dead child's mappings in its name
    expect(status.markedForRemoval).toBe(false);
    // What the child wrote survives it.
    expect(mine.readString(8)).toBe('child');
    expect(mine.readString(0)).toBe('parent');
  });

  it('“remove right after every party attached”: removeOnceAttached(2) + SIGKILL of everybody leaves nothing', async () => {
    const key = uniqueKey();
    // The owner creates, attaches and waits for a second attachment; the peer attaches by key.
    const owner = spawnChild('remove-once-attached', [key]);
    const [, idText] = await owner.line(/segment (\d+)/);
    const id = removeAfterTest(Number(idText));
    expect(procRow(id)).toMatchObject({ nattch: 1, key });

    const peer = spawnChild('open-by-key-and-stay', [key]);
    const [, peerSaw] = await peer.line(/peer attached (\d+)/);
    expect(Number(peerSaw)).toBe(id);

    const [, removed, wrote] = await owner.line(/removed (\{.*\})\nwrote (.*)\n/);
    expect(JSON.parse(removed)).toEqual({ attached: 2, marked: true, key: 0 });
    expect(wrote).toBe('still usable');
    // Marked: the key is free again and only the id reaches the segment until the last detach.
    expect(procRow(id)).toMatchObject({ nattch: 2, key: 0 });
    expect(() => Segment.open(key)).toThrow(expect.objectContaining({ code: 'ENOENT' }));

    owner.child.kill('SIGKILL');
    peer.child.kill('SIGKILL');
    expect(await owner.exit).toMatchObject({ signal: 'SIGKILL' });
    expect(await peer.exit).toMatchObject({ signal: 'SIGKILL' });
    expect(await eventually(() => procRow(id) === undefined)).toBe(true);
  });

  it('of a child that created a segment without removeOnExit leaves the segment behind (and so does SIGKILL with removeOnExit)', async () => {
    for (const removeOnExit of [false, true]) {
      const { child, exit, line } = creatorChild({ removeOnExit, ending: 'stay' });
      const [, idText] = await line(/segment (\d+)/);
      const id = removeAfterTest(Number(idText));
      child.kill('SIGKILL');
      expect(await exit).toMatchObject({ signal: 'SIGKILL' });
      expect(await eventually(() => procRow(id)?.nattch === 0)).toBe(true);
      // Still there, unattached, with the data the dead child wrote; we clean it up ourselves.
      const row = procRow(id)!;
      expect(row).toMatchObject({ nattch: 0, cpid: child.pid, lpid: child.pid });
      const segment = Segment.fromId(id);
      {
        using a = segment.attach({ readOnly: true });
        expect(a.readString(0)).toBe('alive');
      }
      segment.remove();
      expect(procRow(id)).toBeUndefined();
    }
  });
});

describe('removeOnExit', () => {
  it('removes the segment when the program ends normally (still attached at exit, and after process.exit())', async () => {
    for (const then of ['end', 'exit', 'exit-code-3'] as const) {
      const { exit, line } = creatorChild({ removeOnExit: true, ending: then });
      const [, idText] = await line(/segment (\d+)/);
      const id = removeAfterTest(Number(idText));
      const end = await exit;
      expect(end.stderr).toBe('');
      expect(end).toMatchObject({ code: then === 'exit-code-3' ? 3 : 0, signal: null });
      expect(procRow(id)).toBeUndefined();
    }
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('removes the segment on %s, and the child still dies of that signal', async (signal) => {
    const { child, exit, line } = creatorChild({ removeOnExit: true, ending: 'stay' });
    const [, idText] = await line(/segment (\d+)/);
    const id = removeAfterTest(Number(idText));
    expect(procRow(id)).toMatchObject({ nattch: 1 });
    child.kill(signal);
    const end = await exit;
    // The library re-raises the signal after cleaning up: the status says "killed by SIGINT", not "exit 0" or 130.
    expect(end).toMatchObject({ code: null, signal });
    expect(end.stderr).toBe('');
    expect(procRow(id)).toBeUndefined();
  });

  it('on an uncaught exception: exit code 1, the error is printed (not swallowed), the segment is removed', async () => {
    for (const thrower of ['throw', 'throw-later'] as const) {
      const { exit, line } = creatorChild({ removeOnExit: true, ending: thrower });
      const [, idText] = await line(/segment (\d+)/);
      const id = removeAfterTest(Number(idText));
      const end = await exit;
      expect(end).toMatchObject({ code: 1, signal: null });
      expect(end.stderr).toContain('Error: boom from the child');
      expect(procRow(id)).toBeUndefined();
    }
  });

  it('on an unhandled promise rejection: exit code 1, the reason is printed, the segment is removed', async () => {
    const { exit, line } = creatorChild({ removeOnExit: true, ending: 'reject' });
    const [, idText] = await line(/segment (\d+)/);
    const id = removeAfterTest(Number(idText));
    const end = await exit;
    expect(end).toMatchObject({ code: 1, signal: null });
    expect(end.stderr).toContain('rejected in the child');
    expect(procRow(id)).toBeUndefined();
  });

  for (const order of ['after', 'before'] as const) {
    it(`leaves the segment alone on SIGINT when the program has its own SIGINT listener (installed ${order} removeOnExit); its later process.exit() removes it`, async () => {
      const { child, exit, line } = spawnChild('own-sigint-listener', [order]);
      const [, idText] = await line(/segment (\d+)/);
      const id = removeAfterTest(Number(idText));

      child.kill('SIGINT');
      await line(/handled SIGINT/);
      // The program chose to keep running: so does its segment.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
      expect(procRow(id)).toMatchObject({ nattch: 1 });
      const status = Segment.fromId(id).stat();
      expect(status.markedForRemoval).toBe(false);

      child.stdin!.end();
      const end = await exit;
      expect(end).toMatchObject({ code: 0, signal: null });
      expect(end.stderr).toBe('');
      expect(procRow(id)).toBeUndefined();
    });
  }

  it('a segment removed by hand before exit is not a problem at exit, and remove() cancels the exit hook for it', async () => {
    const { exit, line } = spawnChild('remove-then-sigterm');
    const [, aId, bId] = await line(/segments (\d+) (\d+)/);
    removeAfterTest(Number(aId));
    removeAfterTest(Number(bId));
    const end = await exit;
    expect(end).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(end.stderr).toBe('');
    expect(procRow(Number(aId))).toBeUndefined();
    expect(procRow(Number(bId))).toBeUndefined();
  });
});
