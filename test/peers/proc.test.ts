// The kernel's own view in /proc/sysvipc/shm against what our shmctl decodes, and segments shared with child
// Node processes.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  IPC_CREAT,
  IPC_EXCL,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SHM_DEST,
  SHM_INFO,
  SHM_STAT,
  SHM_STAT_ANY,
  ShmError,
  shmat,
  shmctl,
  shmdt,
  shmget,
  type ShmidDs,
} from '../../lib/index.js';
import { readProcShm, type ProcShmRow } from '../../lib/internal.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { runProgram } from '../support/child.js';

const PAGE = 4096;

/** A child program of test/fixtures/peers/. */
const program = (name: string) => fileURLToPath(new URL(`../fixtures/peers/${name}.ts`, import.meta.url));

/** Every field IPC_STAT and /proc/sysvipc/shm have in common, in /proc's names. */
function fromStat(ds: ShmidDs) {
  return {
    key: ds.perm.key,
    perms: ds.perm.mode,
    size: ds.segsz,
    cpid: ds.cpid,
    lpid: ds.lpid,
    nattch: ds.nattch,
    uid: ds.perm.uid,
    gid: ds.perm.gid,
    cuid: ds.perm.cuid,
    cgid: ds.perm.cgid,
    atime: ds.atime,
    dtime: ds.dtime,
    ctime: ds.ctime,
  };
}

function fromProc(row: ProcShmRow) {
  const { key, perms, size, cpid, lpid, nattch, uid, gid, cuid, cgid, atime, dtime, ctime } = row;
  return { key, perms, size, cpid, lpid, nattch, uid, gid, cuid, cgid, atime, dtime, ctime };
}

/** Reads both views of a segment and checks they agree on every field; returns IPC_STAT's. */
function expectStatMatchesProc(shmid: number): ShmidDs {
  const ds = shmctl(shmid, IPC_STAT);
  const row = procRow(shmid);
  expect(row, `segment ${shmid} in /proc/sysvipc/shm`).toBeDefined();
  expect(fromStat(ds)).toEqual(fromProc(row!));
  return ds;
}

const now = () => Math.floor(Date.now() / 1000);

describe('/proc/sysvipc/shm', () => {
  it('every IPC_STAT field agrees with the /proc row, through create, attach, IPC_SET and IPC_RMID', () => {
    const key = uniqueKey();
    const t0 = now();
    const id = removeAfterTest(shmget(key, 12_345, IPC_CREAT | IPC_EXCL | 0o640));

    // Fresh: never attached.
    let ds = expectStatMatchesProc(id);
    expect(fromStat(ds)).toMatchObject({ key, perms: 0o640, size: 12_345, cpid: process.pid, lpid: 0, nattch: 0, atime: 0, dtime: 0 });
    expect(ds.ctime).toBeGreaterThanOrEqual(t0);

    // Attached and written.
    const a = shmat(id);
    new Uint8Array(a.buffer).fill(0x11);
    ds = expectStatMatchesProc(id);
    expect(ds).toMatchObject({ lpid: process.pid, nattch: 1, dtime: 0 });
    expect(ds.atime).toBeGreaterThanOrEqual(t0);
    expect(ds.atime).toBeLessThanOrEqual(now());
    // rss (bytes) covers the 4 pages we touched.
    expect(procRow(id)!.rss).toBeGreaterThanOrEqual(4 * PAGE);

    // Owner and creator differ after IPC_SET, so swapped fields would show.
    shmctl(id, IPC_SET, { perm: { uid: 4242, gid: 4343, mode: 0o604 } });
    ds = expectStatMatchesProc(id);
    expect(ds.perm).toMatchObject({ uid: 4242, gid: 4343, cuid: process.getuid!(), cgid: process.getgid!(), mode: 0o604 });

    // Marked for removal while attached: SHM_DEST in both, key 0 in both.
    shmctl(id, IPC_RMID);
    ds = expectStatMatchesProc(id);
    expect(ds.perm.mode).toBe(SHM_DEST | 0o604);
    expect(ds.perm.key).toBe(0);

    shmdt(a);
    expect(procRow(id)).toBeUndefined();
  });

  it('walking SHM_INFO.highestIndex with SHM_STAT_ANY finds exactly the segments listed in /proc', () => {
    const ours = [
      removeAfterTest(shmget(uniqueKey(), 100, IPC_CREAT | IPC_EXCL | 0o600)),
      removeAfterTest(shmget(IPC_PRIVATE, 3 * PAGE, IPC_CREAT | 0o644)),
      removeAfterTest(shmget(IPC_PRIVATE, 5000, IPC_CREAT | 0o600)),
    ];
    // One of them attached and marked for removal: still listed (by both) until detached.
    const a = shmat(ours[2]);
    shmctl(ours[2], IPC_RMID);

    // Other processes may create or remove segments meanwhile: compare a walk framed by two identical /proc reads.
    let compared = false;
    for (let attempt = 0; attempt < 20 && !compared; attempt++) {
      const before = readProcShm()!;
      const info = shmctl(0, SHM_INFO);
      const walked: Array<ShmidDs & { shmid: number }> = [];
      for (let index = 0; index <= info.highestIndex; index++) {
        try {
          walked.push(shmctl(index, SHM_STAT_ANY));
        } catch (error) {
          // An unused index of the kernel's array.
          expect(error).toBeInstanceOf(ShmError);
          expect((error as ShmError).code).toBe('EINVAL');
        }
      }
      const after = readProcShm()!;
      if (JSON.stringify(before) !== JSON.stringify(after)) continue;

      expect(walked.map((s) => s.shmid).sort((x, y) => x - y)).toEqual(before.map((r) => r.shmid).sort((x, y) => x - y));
      expect(walked.length).toBe(info.usedIds);
      for (const seg of walked) {
        const row = before.find((r) => r.shmid === seg.shmid)!;
        expect(fromStat(seg), `segment ${seg.shmid}`).toEqual(fromProc(row));
      }
      // The highest index is in use (it is where the walk must stop), and as root SHM_STAT sees the same.
      const last = shmctl(info.highestIndex, SHM_STAT_ANY);
      expect(shmctl(info.highestIndex, SHM_STAT)).toEqual(last);
      for (const id of ours) expect(walked.map((s) => s.shmid)).toContain(id);
      expect(walked.find((s) => s.shmid === ours[2])!.perm.mode & SHM_DEST).toBe(SHM_DEST);
      compared = true;
    }
    expect(compared, '/proc/sysvipc/shm kept changing during the walk').toBe(true);
    shmdt(a);
  });

  it('a detach updates dtime and lpid: a child’s detach records the child, ours records us', () => {
    const t0 = now();
    const id = removeAfterTest(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600));
    const a = shmat(id);
    let ds = expectStatMatchesProc(id);
    expect(ds).toMatchObject({ lpid: process.pid, dtime: 0, nattch: 1 });

    // Spawning the child forks this process, which the kernel also counts as an attach and a detach (at exec)
    // by the child; the child's own shmat/shmdt then come after that.
    const child = runProgram(program('attach-stat-detach'), [id]);
    expect(child.status, child.stderr).toBe(0);
    const seen = JSON.parse(child.stdout);
    const childPid: number = seen.pid;
    expect(seen.attached).toMatchObject({ lpid: childPid, nattch: 2 });
    expect(seen.detached).toMatchObject({ lpid: childPid, nattch: 1 });
    expect(seen.detached.dtime).toBeGreaterThanOrEqual(t0);
    ds = expectStatMatchesProc(id);
    expect(ds).toEqual(seen.detached);
    expect(ds).toMatchObject({ lpid: childPid, nattch: 1 });
    expect(ds.dtime).toBeGreaterThanOrEqual(t0);
    expect(ds.dtime).toBeLessThanOrEqual(now());
    const childDtime = ds.dtime;

    shmdt(a);
    ds = expectStatMatchesProc(id);
    expect(ds).toMatchObject({ lpid: process.pid, nattch: 0 });
    expect(ds.dtime).toBeGreaterThanOrEqual(childDtime);
    expect(ds.dtime).toBeLessThanOrEqual(now());
  });
});

describe('segments shared with a child process', () => {
  it('a child process reads the bytes we wrote', () => {
    const size = 3 * PAGE + 100;
    const id = removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
    const a = shmat(id);
    const view = new Uint8Array(a.buffer);
    for (let i = 0; i < size; i++) view[i] = (i * 7 + 3) & 0xff;
    new TextEncoder().encodeInto('written by the parent', view.subarray(PAGE));
    const digest = createHash('sha256').update(view).digest('hex');

    const child = runProgram(program('read-segment'), [id, PAGE]);
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ size, sha256: digest, text: 'written by the parent', last: ((size - 1) * 7 + 3) & 0xff });
    shmdt(a);
  });

  it('we see, through our live attachment, what a child process writes', () => {
    const size = 2 * PAGE;
    const id = removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
    const a = shmat(id);
    const view = new Uint8Array(a.buffer);
    expect(view.every((b) => b === 0)).toBe(true);

    const child = runProgram(program('write-pattern'), [id, PAGE]);
    expect(child.status, child.stderr).toBe(0);
    const childPid = Number(/pid=(\d+)/.exec(child.stdout)![1]);

    // No re-attach: the same zero-copy view now holds the child's bytes.
    const expected = new Uint8Array(size);
    for (let i = 0; i < size; i++) expected[i] = (i * 13 + 5) & 0xff;
    new TextEncoder().encodeInto('written by the child', expected.subarray(PAGE + 8));
    expect(Buffer.from(view).equals(Buffer.from(expected))).toBe(true);
    expect(new TextDecoder().decode(a.read(PAGE + 8, 20))).toBe('written by the child');
    expect(expectStatMatchesProc(id)).toMatchObject({ lpid: childPid, nattch: 1 });
    shmdt(a);
  });
});
