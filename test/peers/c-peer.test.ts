// Interoperability with plain C programs: a C writer and a C reader (test/peers/c/*.c), compiled with gcc here,
// share segments with this library in both directions. The byte layout they agree on is in c/pattern.h.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_SET, IPC_STAT, SHM_DEST, SHM_RDONLY, ShmError, ftok, shmat, shmctl, shmdt, shmget } from '../../lib/index.js';
import { readProcShm } from '../../lib/internal.js';
import { procRow, removeAfterTest } from '../support/segments.js';
import { catchError } from '../support/errors.js';

const C_SOURCES = fileURLToPath(new URL('./c/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// The layout of c/pattern.h, in TypeScript.
const MAGIC = 0x52454550; // "PEER" little-endian
const HEADER = 16;

function patternByte(seed: number, i: number): number {
  return (i * 131 + seed * 7 + Math.floor(i / 256) * 3) & 0xff;
}

function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

/** Fills `segment` (the whole segment) with the header and the pattern; returns the checksum. */
function writePattern(segment: Uint8Array, seed: number): number {
  const payload = segment.subarray(HEADER);
  for (let i = 0; i < payload.length; i++) payload[i] = patternByte(seed, i);
  const sum = fnv1a(payload);
  const header = new DataView(segment.buffer, segment.byteOffset, HEADER);
  header.setUint32(0, MAGIC, true);
  header.setUint32(4, payload.length, true);
  header.setUint32(8, seed, true);
  header.setUint32(12, sum, true);
  return sum;
}

/** Decodes and checks what a C writer left in a segment. */
function readPattern(segment: Uint8Array) {
  const header = new DataView(segment.buffer, segment.byteOffset, HEADER);
  const magic = header.getUint32(0, true);
  const length = header.getUint32(4, true);
  const seed = header.getUint32(8, true);
  const stored = header.getUint32(12, true);
  const payload = segment.subarray(HEADER, HEADER + length);
  let firstBad = -1;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] !== patternByte(seed, i)) {
      firstBad = i;
      break;
    }
  }
  return { magic, length, seed, stored, computed: fnv1a(payload), firstBad };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Running the peers.
let work = '';
let writerBin = '';
let readerBin = '';

interface PeerResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** key=value pairs of the peer's output line. */
  out: Record<string, string>;
}

function runPeer(bin: string, args: Array<string | number>): PeerResult {
  const result = spawnSync(bin, args.map(String), { encoding: 'utf8', timeout: 10_000 });
  const out: Record<string, string> = {};
  for (const match of (result.stdout ?? '').matchAll(/(\w+)=("[^"]*"|\S+)/g)) out[match[1]] = match[2];
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', out };
}

/** Runs a peer that must succeed, registering for removal any segment it reports or any it made under `key`. */
function runPeerOk(bin: string, args: Array<string | number>, key?: number): PeerResult {
  const result = runPeer(bin, args);
  if (result.out.shmid !== undefined) removeAfterTest(Number(result.out.shmid));
  if (key !== undefined) {
    const row = readProcShm()?.find((r) => r.key === key);
    if (row) removeAfterTest(row.shmid);
  }
  expect(result.status, `${bin} ${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  return result;
}

/** A fresh file for ftok. */
let fileCounter = 0;
function keyFile(): string {
  const path = join(work, `key-file-${++fileCounter}`);
  writeFileSync(path, 'ftok anchor\n');
  return path;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sysv-shm-c-peer-'));
  writerBin = join(work, 'writer');
  readerBin = join(work, 'reader');
  for (const [source, bin] of [
    ['writer.c', writerBin],
    ['reader.c', readerBin],
  ]) {
    execFileSync('gcc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, join(C_SOURCES, source)], { stdio: 'pipe' });
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
describe('C peers: ftok', () => {
  it("C's ftok(path, proj) and ours give the same key, for char and numeric project ids", () => {
    const paths = [keyFile(), keyFile(), work];
    for (const path of paths) {
      for (const proj of ['A', 'z', 1, 0x41, 255]) {
        const c = runPeerOk(readerBin, ['ftok', path, proj]);
        const ours = ftok(path, proj);
        expect(ours, `ftok(${path}, ${proj})`).toBe(Number(c.out.key));
        expect('0x' + (ours >>> 0).toString(16).padStart(8, '0')).toBe(c.out.keyhex);
      }
      // 'A' and 65 are the same project id in C.
      expect(ftok(path, 'A')).toBe(ftok(path, 0x41));
    }
    // Different files give different keys (same device, different inodes).
    expect(ftok(paths[0], 'A')).not.toBe(ftok(paths[1], 'A'));
  });
});

describe('C peers: we write, C reads', () => {
  it('the C reader opens by ftok key with shmget(key, 0, 0) and verifies our pattern and checksum', () => {
    const path = keyFile();
    const key = ftok(path, 'B');
    const id = removeAfterTest(shmget(key, 10_000, IPC_CREAT | IPC_EXCL | 0o600));
    const a = shmat(id);
    const sum = writePattern(new Uint8Array(a.buffer), 4242);

    const c = runPeerOk(readerBin, ['key', path, 'B']);
    expect(c.out).toMatchObject({
      shmid: String(id),
      key: String(key),
      size: '10000',
      magic: '0x52454550',
      length: String(10_000 - HEADER),
      seed: '4242',
      stored: String(sum),
      computed: String(sum),
      first: hex(a.read(HEADER, 8)),
      nattch: '2', // ours and the reader's
      verdict: 'ok',
    });

    // The reader really checks: one changed byte is reported where it is.
    new Uint8Array(a.buffer)[HEADER + 1234] ^= 0xff;
    const bad = runPeer(readerBin, ['key', path, 'B']);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatchObject({ badat: '1234', verdict: 'bad', stored: String(sum) });
    expect(bad.out.computed).not.toBe(String(sum));
    shmdt(a);
  });

  it('the C reader attaches an IPC_PRIVATE segment by the id on argv and verifies it', () => {
    const size = 3 * 4096 + 5;
    const id = removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
    const a = shmat(id);
    const sum = writePattern(new Uint8Array(a.buffer), 7);
    shmdt(a); // the data stays in the segment after we detach

    const c = runPeerOk(readerBin, ['id', id]);
    expect(c.out).toMatchObject({
      shmid: String(id),
      key: '0',
      size: String(size),
      length: String(size - HEADER),
      seed: '7',
      stored: String(sum),
      computed: String(sum),
      nattch: '1', // only the reader
      verdict: 'ok',
    });
    expect(c.out.first).toBe([0, 1, 2, 3, 4, 5, 6, 7].map((i) => patternByte(7, i).toString(16).padStart(2, '0')).join(''));
  });
});

describe('C peers: C writes, we read', () => {
  it('we open the C writer’s segment by the same ftok key and verify pattern and checksum', () => {
    const path = keyFile();
    const key = ftok(path, 'C');
    const c = runPeerOk(writerBin, ['key', path, 'C', 7000, 99], key);
    expect(Number(c.out.key)).toBe(key);

    const id = shmget(key, 0, 0);
    expect(id).toBe(Number(c.out.shmid));
    const a = shmat(id, null, SHM_RDONLY);
    expect(a.readOnly).toBe(true);
    expect(a.size).toBe(7000);
    const seen = readPattern(a.read());
    expect(seen).toEqual({ magic: MAGIC, length: 7000 - HEADER, seed: 99, stored: Number(c.out.checksum), computed: Number(c.out.checksum), firstBad: -1 });
    const ds = shmctl(id, IPC_STAT);
    expect(ds.perm.key).toBe(key);
    expect(ds.cpid).not.toBe(process.pid); // the C writer made it
    expect(ds.nattch).toBe(1);
    shmdt(a);
  });

  it('we read an IPC_PRIVATE segment of the C writer by id, zero-copy through the buffer', () => {
    const c = runPeerOk(writerBin, ['private', 20_000, 3]);
    const id = Number(c.out.shmid);
    const a = shmat(id);
    expect(a.size).toBe(20_000);
    const view = new Uint8Array(a.buffer);
    expect(view.length).toBe(20_000);
    expect(readPattern(view)).toEqual({
      magic: MAGIC,
      length: 20_000 - HEADER,
      seed: 3,
      stored: Number(c.out.checksum),
      computed: Number(c.out.checksum),
      firstBad: -1,
    });
    expect(shmctl(id, IPC_STAT).perm.key).toBe(IPC_PRIVATE);
    shmdt(a);
  });

  it('a segment the C writer created is opened with shmget(key, 0, 0) at its real, unrounded size', () => {
    for (const size of [16, 4097, 12_345]) {
      const path = keyFile();
      const key = ftok(path, 'D');
      runPeerOk(writerBin, ['key', path, 'D', size, size], key);

      const id = shmget(key, 0, 0);
      expect(shmctl(id, IPC_STAT).segsz).toBe(size);
      expect(procRow(id)!.size).toBe(size);
      const a = shmat(id);
      expect(a.size).toBe(size);
      expect(a.buffer.byteLength).toBe(size);
      expect(a.read().length).toBe(size);
      expect(readPattern(a.read()).firstBad).toBe(-1);
      expect(() => a.read(size, 1)).toThrow();
      // Asking for the exact size works; one byte more is refused by the kernel.
      expect(shmget(key, size, 0)).toBe(id);
      const tooBig = catchError(() => shmget(key, size + 1, 0));
      expect(tooBig).toBeInstanceOf(ShmError);
      expect((tooBig as ShmError).code).toBe('EINVAL');
      shmdt(a);
    }
  });
});

describe('C peers: struct shmid_ds', () => {
  it('C reads our IPC_SET uid/gid/mode, and every field it prints matches our IPC_STAT', () => {
    const path = keyFile();
    const key = ftok(path, 'E');
    const id = removeAfterTest(shmget(key, 5555, IPC_CREAT | IPC_EXCL | 0o600));
    const a = shmat(id);

    for (const perm of [
      { uid: 4242, gid: 4343, mode: 0o640 },
      { uid: 4_000_000_000, gid: 65534, mode: 0o604 },
      { uid: 0, gid: 0, mode: 0o666 },
    ]) {
      shmctl(id, IPC_SET, { perm });
      // C reads first: spawning it forks this process, and the fork's copy of our mapping counts as an attach
      // and a detach by the child (lpid, atime and dtime change). Nothing changes between C's read and ours.
      const c = runPeerOk(readerBin, ['stat', id]).out;
      const ours = shmctl(id, IPC_STAT);
      expect(ours.perm).toMatchObject({ ...perm, key, cuid: process.getuid!(), cgid: process.getgid!() });
      expect(ours.perm.mode).toBe(perm.mode);
      expect({
        key: Number(c.key),
        uid: Number(c.uid),
        gid: Number(c.gid),
        cuid: Number(c.cuid),
        cgid: Number(c.cgid),
        mode: Number(c.mode), // printed as 0o...
        seq: Number(c.seq),
      }).toEqual(ours.perm);
      expect({
        segsz: Number(c.segsz),
        atime: Number(c.atime),
        dtime: Number(c.dtime),
        ctime: Number(c.ctime),
        cpid: Number(c.cpid),
        lpid: Number(c.lpid),
        nattch: Number(c.nattch),
      }).toEqual({ segsz: 5555, atime: ours.atime, dtime: ours.dtime, ctime: ours.ctime, cpid: process.pid, lpid: ours.lpid, nattch: 1 });
      expect(ours.atime).toBeGreaterThan(0);
      expect(ours.ctime).toBeGreaterThan(0);
    }
    shmdt(a);
  });
});

describe('C peers: removal', () => {
  it('C marks our attached segment for removal: we see SHM_DEST and key 0, and can still attach it by id', () => {
    const path = keyFile();
    const key = ftok(path, 'F');
    const id = removeAfterTest(shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0o600));
    const a = shmat(id);
    new TextEncoder().encodeInto('still here', new Uint8Array(a.buffer, 100));

    expect(runPeerOk(writerBin, ['rmid', id]).out.removed).toBe(String(id));

    const ds = shmctl(id, IPC_STAT);
    expect(ds.perm.mode & SHM_DEST).toBe(SHM_DEST);
    expect(ds.perm.mode & 0o777).toBe(0o600);
    expect(ds.perm.key).toBe(0);
    expect(ds.nattch).toBe(1);
    expect(procRow(id)).toMatchObject({ key: 0, perms: 0o1600, nattch: 1 });
    // The key is free again.
    const gone = catchError(() => shmget(key, 0, 0));
    expect(gone).toBeInstanceOf(ShmError);
    expect((gone as ShmError).code).toBe('ENOENT');

    // Linux still lets a process attach a segment marked for removal, by id.
    const b = shmat(id, null, SHM_RDONLY);
    expect(new TextDecoder().decode(b.read(100, 10))).toBe('still here');
    expect(shmctl(id, IPC_STAT).nattch).toBe(2);
    // C sees the same: SHM_DEST in the mode and key 0.
    const c = runPeerOk(readerBin, ['stat', id]).out;
    expect(Number(c.mode)).toBe(0o1600);
    expect(c.key).toBe('0');
    expect(c.nattch).toBe('2');

    shmdt(a);
    expect(procRow(id)?.nattch).toBe(1);
    shmdt(b);
    // The last detach destroys it.
    expect(procRow(id)).toBeUndefined();
    const stat = catchError(() => shmctl(id, IPC_STAT));
    expect(stat).toBeInstanceOf(ShmError);
    expect(['EINVAL', 'EIDRM']).toContain((stat as ShmError).code);
  });
});
