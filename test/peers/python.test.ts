// Debian's python3-sysv-ipc as a real peer: it creates, fills, reads and removes segments with us.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { Segment } from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';

// Debian's interpreter, where python3-sysv-ipc lives (another python3 may come first on PATH).
const PYTHON = '/usr/bin/python3';
const available = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sysv_ipc']).status === 0;

function python(code: string): string {
  const result = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe.runIf(available)('python3-sysv-ipc as a peer', () => {
  it('Python creates by key and writes; we open at the real size and read', () => {
    const key = uniqueKey();
    const id = Number(
      python(`
import sysv_ipc
m = sysv_ipc.SharedMemory(${key}, sysv_ipc.IPC_CREX, mode=0o640, size=3000)
m.write(b"from python")
print(m.id)`),
    );
    removeAfterTest(id);
    const segment = Segment.open(key);
    expect(segment.id).toBe(id);
    expect(segment.size).toBe(3000);
    expect(segment.mode).toBe(0o640);
    using a = segment.attach({ readOnly: true });
    expect(a.readString(0, 11)).toBe('from python');
  });

  it('we create and write; Python reads, checks our attributes, and removes', () => {
    const key = uniqueKey();
    const segment = Segment.create({ key, size: 5000, mode: 0o644 });
    removeAfterTest(segment.id);
    using a = segment.attach();
    a.write('from node');
    const seen = JSON.parse(
      python(`
import json, sysv_ipc
m = sysv_ipc.SharedMemory(${key})
print(json.dumps({"id": m.id, "size": m.size, "mode": m.mode, "data": m.read(9).decode(),
  "nattch": m.number_attached, "cpid": m.creator_pid, "key": m.key}))
m.remove()`),
    );
    expect(seen).toEqual({
      id: segment.id,
      size: 5000,
      mode: 0o644,
      data: 'from node',
      nattch: 2 /* ours and Python's own: SharedMemory() attaches */,
      cpid: process.pid,
      key,
    });
    expect(segment.stat().markedForRemoval).toBe(true);
    a.detach();
    expect(procRow(segment.id)).toBeUndefined();
  });

  it('Python creates a private segment and removes it while we are attached: we keep reading by id', async () => {
    const child = spawn(
      PYTHON,
      [
        '-c',
        'import sys, sysv_ipc\nm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, size=64)\nm.write(b"private")\nprint(m.id, flush=True)\nsys.stdin.readline()\nm.remove()\nprint("removed", flush=True)\n',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const id = Number((await lines.next()).value);
    removeAfterTest(id);
    const segment = Segment.fromId(id);
    expect(segment.key).toBe(0);
    using a = segment.attach();
    child.stdin!.write('go\n');
    expect((await lines.next()).value).toBe('removed');
    expect(segment.markedForRemoval).toBe(true);
    expect(a.readString(0, 7)).toBe('private');
    a.detach();
    await exited; // Python's own attachment ends with it
    expect(procRow(id)).toBeUndefined();
  });

  it('Python sees our IPC_SET (owner and mode) through sysv_ipc.attach(id)', () => {
    const segment = Segment.create({ size: 64 });
    removeAfterTest(segment.id);
    segment.setOwner(1000, 1001);
    segment.chmod(0o604);
    const seen = JSON.parse(
      python(`
import json, sysv_ipc
m = sysv_ipc.attach(${segment.id})
print(json.dumps({"uid": m.uid, "gid": m.gid, "mode": m.mode, "cuid": m.cuid, "size": m.size}))
m.detach()`),
    );
    expect(seen).toEqual({ uid: 1000, gid: 1001, mode: 0o604, cuid: 0, size: 64 });
  });
});
