// Interoperability of semaphore sets and message queues with plain C programs (test/peers/c/sem-peer.c and
// msg-peer.c, compiled with gcc here), in both directions: ping-pong over a set of two semaphores, what SETVAL and
// SETALL leave for C to read, SEM_UNDO of a C process killed while it holds, messages of several types both ways,
// request/response round trips, and struct msqid_ds / semid_ds as both sides see them.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GETALL,
  GETNCNT,
  GETPID,
  GETVAL,
  GETZCNT,
  IPC_CREAT,
  IPC_EXCL,
  IPC_NOWAIT,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  MSG_NOERROR,
  MessageQueue,
  SETALL,
  SETVAL,
  SemaphoreSet,
  ShmError,
  msgctl,
  msgget,
  msgrcv,
  msgsnd,
  semctl,
  semget,
  semop,
} from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { removeMadeSysvObjects, removeMsgAfterTest, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';

const C_SOURCES = fileURLToPath(new URL('./c/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every set and queue a test makes is removed after the test (test/support/sysv-objects.ts), and so is
// whatever a peer made under a key it was given, even if it failed before saying which id it made.
const children = new Set<ChildProcess>();
const peerKeys: Array<['sem' | 'msg', number]> = [];

function removeKeyAfterTest(kind: 'sem' | 'msg', key: number): number {
  peerKeys.push([kind, key]);
  return key;
}

afterEach(async () => {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
  for (const [kind, key] of peerKeys.splice(0)) {
    const [, ...lines] = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n');
    for (const line of lines) {
      const [rowKey, id] = line.trim().split(/\s+/).map(Number);
      if (rowKey === (key | 0)) (kind === 'sem' ? removeSemAfterTest : removeMsgAfterTest)(id);
    }
  }
  removeMadeSysvObjects();
});

// ---------------------------------------------------------------------------------------------------------------
// The C peers.
let work = '';
let semBin = '';
let msgBin = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sysv-shm-sem-msg-c-'));
  semBin = join(work, 'sem-peer');
  msgBin = join(work, 'msg-peer');
  for (const [source, bin] of [
    ['sem-peer.c', semBin],
    ['msg-peer.c', msgBin],
  ]) {
    execFileSync('gcc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, join(C_SOURCES, source)], { stdio: 'pipe' });
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** key=value pairs of a line. */
function pairs(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of line.matchAll(/(\w+)=("[^"]*"|\S*)/g)) out[match[1]] = match[2];
  return out;
}

interface PeerResult {
  status: number | null;
  stdout: string;
  out: Record<string, string>;
}

/** Runs a C peer to completion; `out` holds the pairs of its last line. */
function run(bin: string, args: Array<string | number>): PeerResult {
  const result = spawnSync(bin, args.map(String), { encoding: 'utf8', timeout: 25_000 });
  const lines = (result.stdout ?? '').trim().split('\n');
  return { status: result.status, stdout: (result.stdout ?? '') + (result.stderr ?? ''), out: pairs(lines[lines.length - 1] ?? '') };
}

/** Runs a C peer that must succeed (what it creates under a key is removed after the test). */
function runOk(bin: string, args: Array<string | number>): Record<string, string> {
  if (args[0] === 'create') removeKeyAfterTest(bin === semBin ? 'sem' : 'msg', Number(args[1]));
  const result = run(bin, args);
  expect(result.status, `${bin} ${args.join(' ')}: ${result.stdout}`).toBe(0);
  return result.out;
}

const sem = (...args: Array<string | number>) => runOk(semBin, args);
const msg = (...args: Array<string | number>) => runOk(msgBin, args);

interface Started {
  child: ChildProcess;
  /** Waits until a line of its output matches. */
  line(pattern: RegExp): Promise<Record<string, string>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
}

/** Starts a C peer in the background (its stdin stays open until closed or the test ends). */
function start(bin: string, args: Array<string | number>): Started {
  const child = spawn(bin, args.map(String), { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout })),
  );
  let ended = false;
  void exit.then(() => (ended = true));
  const line = async (pattern: RegExp) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = stdout.split('\n').find((l) => pattern.test(l));
      if (found !== undefined) return pairs(found);
      if (ended || Date.now() > deadline) throw new Error(`${ended ? 'the peer ended' : 'timed out'} before printing ${pattern}; output: ${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { child, line, exit };
}

/** Polls until `condition` holds (each check is a system call, not a guess about speed). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const list = (text: string) => text.split(',').map(Number);

// ---------------------------------------------------------------------------------------------------------------
// Message texts: the formula of msg-peer.c's msg_byte.
function msgBytes(seed: number, i: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let j = 0; j < length; j++) out[j] = (j * 131 + seed * 7 + i * 17 + (j >> 8) * 3) & 0xff;
  return out;
}

function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const xor = (bytes: Uint8Array) => bytes.map((b) => b ^ 0x5a);

/** What msg-peer's recv prints for a message. */
function described(type: number, data: Uint8Array) {
  return { type: String(type), len: String(data.length), fnv: String(fnv1a(data)), hex: hex(data.subarray(0, 64)) };
}

function receivedLines(stdout: string) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('got='))
    .map((l) => {
      const { type, len, fnv, hex } = pairs(l);
      return { type, len, fnv, hex };
    });
}

const ROUNDS = 300;

// ---------------------------------------------------------------------------------------------------------------
describe('C peers: semaphore ping-pong over a set of two', () => {
  it('C creates the set by key and pings; we open it by key and pong, N rounds', async () => {
    const key = uniqueKey();
    const semid = Number(sem('create', key, 2, '600').semid);
    const set = SemaphoreSet.open(key);
    expect({ id: set.id, key: set.key, count: set.count }).toEqual({ id: semid, key, count: 2 });

    const ping = start(semBin, ['ping', semid, ROUNDS]);
    for (let i = 0; i < ROUNDS; i++) {
      // Not undone at exit: this process only ever takes semaphore 0 and gives semaphore 1.
      expect(set.acquire({ index: 0, undo: false, timeoutMs: 10_000 }), `round ${i}`).toBe(true);
      set.release({ index: 1, undo: false });
    }
    const end = await ping.exit;
    expect(end.code, end.stdout).toBe(0);
    const cpid = Number(pairs(end.stdout).pid);
    expect(pairs(end.stdout).rounds).toBe(String(ROUNDS));

    expect(set.values()).toEqual([0, 0]);
    // The last operation on semaphore 0 was ours (the last P), on semaphore 1 C's (its last P).
    const status = set.status();
    expect(status.semaphores.map((s) => s.lastPid)).toEqual([process.pid, cpid]);
    expect(status.lastOperationTime).toBeInstanceOf(Date);
    expect(sem('stat', semid)).toMatchObject({ values: '0,0', pids: `${process.pid},${cpid}`, ncnt: '0,0', zcnt: '0,0' });

    set.remove();
    expect(run(semBin, ['open', key]).out).toMatchObject({ error: 'semget', errno: '2' }); // ENOENT
  });

  for (const api of ['SemaphoreSet', 'semop'] as const) {
    it(`we create the set; C opens it by key and pongs while we ping with ${api}, N rounds`, async () => {
      const key = uniqueKey();
      const set = SemaphoreSet.create({ key, count: 2, mode: 0o640 });
      removeSemAfterTest(set.id);
      expect(sem('open', key)).toEqual({ semid: String(set.id), nsems: '2' });

      const pong = start(semBin, ['pong', set.id, ROUNDS]);
      for (let i = 0; i < ROUNDS; i++) {
        if (api === 'SemaphoreSet') {
          set.release({ index: 0, undo: false });
          expect(set.acquire({ index: 1, undo: false, timeoutMs: 10_000 }), `round ${i}`).toBe(true);
        } else {
          semop(set.id, [{ sem_num: 0, sem_op: 1 }]);
          semop(set.id, [{ sem_num: 1, sem_op: -1, sem_flg: 0 }]);
        }
      }
      const end = await pong.exit;
      expect(end.code, end.stdout).toBe(0);
      const cpid = Number(pairs(end.stdout).pid);
      expect(set.values()).toEqual([0, 0]);
      expect(set.status().semaphores.map((s) => s.lastPid)).toEqual([cpid, process.pid]);
      expect(semctl(set.id, 0, GETPID)).toBe(cpid);
      expect(semctl(set.id, 1, GETPID)).toBe(process.pid);
    });
  }
});

describe('C peers: values, SETVAL and SETALL', () => {
  it('C reads what we set with SETALL and SETVAL (C-shaped and friendly), with our pid as the last one', () => {
    const key = uniqueKey();
    const id = removeSemAfterTest(semget(key, 3, IPC_CREAT | IPC_EXCL | 0o640));
    semctl(id, 0, SETALL, [1, 2, 32767]);
    expect(sem('stat', id)).toMatchObject({ values: '1,2,32767', getval: '1,2,32767', pids: `${process.pid},${process.pid},${process.pid}` });
    semctl(id, 1, SETVAL, 7);
    expect(sem('stat', id)).toMatchObject({ values: '1,7,32767' });

    const set = SemaphoreSet.open({ id });
    set.setValues([4, 5, 6]);
    expect(sem('stat', id).values).toBe('4,5,6');
    set.setValue(2, 0);
    expect(sem('stat', id).values).toBe('4,5,0');
  });

  it('we read what C sets with SETALL and SETVAL, and C’s pid as the last one', () => {
    const key = uniqueKey();
    const semid = Number(sem('create', key, 4, '600').semid);
    sem('setall', semid, '9,8,7,0');
    expect(semctl(semid, 0, GETALL)).toEqual([9, 8, 7, 0]);
    expect([0, 1, 2, 3].map((n) => semctl(semid, n, GETVAL))).toEqual([9, 8, 7, 0]);
    const set = SemaphoreSet.open({ id: semid });
    expect(set.values()).toEqual([9, 8, 7, 0]);
    sem('setval', semid, 3, 42);
    expect(set.value(3)).toBe(42);
    expect(semctl(semid, 3, GETVAL)).toBe(42);
    // Both C processes set the values: GETPID names a process that is not this one.
    const pids = [0, 1, 2, 3].map((n) => semctl(semid, n, GETPID));
    expect(pids.every((pid) => pid > 0 && pid !== process.pid)).toBe(true);
    expect(set.status().semaphores.map((s) => s.lastPid)).toEqual(pids);
  });

  it('struct semid_ds: C reads our IPC_SET, and every field it prints matches our IPC_STAT and status()', () => {
    const key = uniqueKey();
    const set = SemaphoreSet.create({ key, count: 3, values: [1, 0, 2], mode: 0o600 });
    removeSemAfterTest(set.id);
    for (const perm of [
      { uid: 4242, gid: 4343, mode: 0o640 },
      { uid: 0, gid: 0, mode: 0o604 },
    ]) {
      semctl(set.id, 0, IPC_SET, { perm });
      const c = sem('stat', set.id);
      const ds = semctl(set.id, 0, IPC_STAT);
      expect(ds.perm).toMatchObject({ ...perm, key, cuid: process.getuid!(), cgid: process.getgid!() });
      expect({
        key: Number(c.key),
        uid: Number(c.uid),
        gid: Number(c.gid),
        cuid: Number(c.cuid),
        cgid: Number(c.cgid),
        mode: Number(c.mode),
        nsems: Number(c.nsems),
        otime: Number(c.otime),
        ctime: Number(c.ctime),
      }).toEqual({ ...perm, key, cuid: ds.perm.cuid, cgid: ds.perm.cgid, nsems: 3, otime: ds.otime, ctime: ds.ctime });
      const status = set.status();
      expect(status).toMatchObject({ id: set.id, key, mode: perm.mode, uid: perm.uid, gid: perm.gid, count: 3 });
      expect(status.lastChangeTime.getTime()).toBe(ds.ctime * 1000);
      expect(status.semaphores.map((s) => s.value)).toEqual(list(c.values));
      expect(list(c.values)).toEqual([1, 0, 2]);
    }
  });
});

describe('C peers: blocking and SEM_UNDO', () => {
  it('a C process that holds with SEM_UNDO and is SIGKILLed gives back what it took; without SEM_UNDO it does not', async () => {
    const set = SemaphoreSet.create({ count: 2, values: [3, 0] });
    removeSemAfterTest(set.id);

    const holder = start(semBin, ['op', set.id, '0:-2:undo,1:5:undo', -1, 'stay']);
    const held = await holder.line(/^result=/);
    expect(held.result).toBe('ok');
    const cpid = Number(held.pid);
    expect(set.values()).toEqual([1, 5]);
    expect(set.status().semaphores.map((s) => s.lastPid)).toEqual([cpid, cpid]);
    expect(set.tryAcquire({ count: 2 })).toBe(false); // only 1 left

    holder.child.kill('SIGKILL');
    expect((await holder.exit).signal).toBe('SIGKILL');
    expect(set.values()).toEqual([3, 0]); // the kernel applied the C process's semadj at its exit

    // The same operation without SEM_UNDO stays applied after a normal exit.
    expect(run(semBin, ['op', set.id, '0:-2,1:5', -1, 'exit']).status).toBe(0);
    expect(set.values()).toEqual([1, 5]);
  });

  it('our release wakes a C process blocked in semop, which our status counts as waiting', async () => {
    const set = SemaphoreSet.create({ count: 2, values: [1, 0] });
    removeSemAfterTest(set.id);

    const waiter = start(semBin, ['op', set.id, '0:-3', -1, 'exit']);
    await waiter.line(/^waiting/);
    await until(() => set.status().semaphores[0].waitingForNonzero === 1, 'the C process waits on semaphore 0');
    expect(semctl(set.id, 0, GETNCNT)).toBe(1);
    expect(sem('stat', set.id).ncnt).toBe('1,0');

    set.release({ index: 0, count: 2, undo: false });
    const end = await waiter.exit;
    expect(end.code, end.stdout).toBe(0);
    expect(pairs(end.stdout).result).toBe('ok');
    expect(set.values()).toEqual([0, 0]);
    expect(set.status().semaphores[0].waitingForNonzero).toBe(0);

    // A C process waiting for zero is counted too, and setting the value to zero lets it through.
    set.setValue(1, 2);
    const zero = start(semBin, ['op', set.id, '1:0', -1, 'exit']);
    await until(() => set.status().semaphores[1].waitingForZero === 1, 'the C process waits for zero on semaphore 1');
    expect(semctl(set.id, 1, GETZCNT)).toBe(1);
    expect(set.waitForZero({ index: 1, timeoutMs: 0 })).toBe(false);
    set.setValue(1, 0);
    expect((await zero.exit).code).toBe(0);
  });

  it('a C release wakes our blocking acquire; a C semtimedop times out with EAGAIN on a value we hold', async () => {
    const set = SemaphoreSet.create({ count: 1, values: [0] });
    removeSemAfterTest(set.id);
    const giver = start(semBin, ['op', set.id, '0:2', -1, 'exit']);
    expect(set.acquire({ count: 2, undo: false, timeoutMs: 15_000 })).toBe(true);
    expect(set.value()).toBe(0);
    expect((await giver.exit).code).toBe(0);

    const timed = run(semBin, ['op', set.id, '0:-1', 50, 'exit']);
    expect(timed.status).toBe(1);
    expect(timed.out.result).toBe('EAGAIN');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('C peers: messages of several types', () => {
  it('C creates the queue and sends; we receive by type (> 0, < 0, MSG_EXCEPT, 0) and check every byte', () => {
    const key = uniqueKey();
    const msqid = Number(msg('create', key, '640').msqid);
    const items: Array<[number, number]> = [
      [1, 10],
      [2, 0],
      [3, 4096],
      [1, 3],
      [5, 100],
      [2, 64],
    ];
    const sent = msg('send', msqid, 11, items.map(([t, n]) => `${t}:${n}`).join(','));
    const cpid = Number(sent.pid);
    const expected = items.map(([type, length], i) => ({ type, data: msgBytes(11, i, length) }));

    const queue = MessageQueue.open(key);
    expect(queue.id).toBe(msqid);
    const c = msg('stat', msqid);
    expect(queue.status()).toMatchObject({
      id: msqid,
      key,
      mode: 0o640,
      messages: 6,
      bytes: 10 + 4096 + 3 + 100 + 64,
      maxBytes: Number(c.qbytes),
      lastSendPid: cpid,
      lastReceivePid: 0,
      lastReceiveTime: null,
    });

    expect(queue.receive({ type: 2 })).toEqual(expected[1]); // the first of type 2 (empty text)
    expect(queue.receive({ type: -2 })).toEqual(expected[0]); // the lowest type <= 2, first in the queue
    expect(queue.receive({ type: 2, except: true })).toEqual(expected[2]); // the first not of type 2
    expect(queue.receive({ type: 1 })).toEqual(expected[3]);
    expect(queue.receive()).toEqual(expected[4]); // type 0: the first of any type
    // The C-shaped call agrees.
    const last = msgrcv(msqid, 8192, 0, IPC_NOWAIT);
    expect(last).toEqual({ mtype: 2, mtext: expected[5].data });
    expect(queue.receive({ noWait: true })).toBeNull();
    expect(queue.status()).toMatchObject({ messages: 0, bytes: 0, lastReceivePid: process.pid });
  });

  it('a message longer than our buffer: E2BIG leaves it queued; truncate (MSG_NOERROR) takes its head', () => {
    const key = uniqueKey();
    const msqid = Number(msg('create', key, '600').msqid);
    msg('send', msqid, 3, '7:100');
    const queue = MessageQueue.open({ id: msqid });
    const tooBig = catchError(() => queue.receive({ maxBytes: 10, noWait: true }));
    expect(tooBig).toBeInstanceOf(ShmError);
    expect(tooBig.code).toBe('E2BIG');
    expect(queue.status().messages).toBe(1);
    const e2big = catchError(() => msgrcv(msqid, 10, 0, IPC_NOWAIT));
    expect(e2big.code).toBe('E2BIG');
    expect(msgrcv(msqid, 10, 7, IPC_NOWAIT | MSG_NOERROR)).toEqual({ mtype: 7, mtext: msgBytes(3, 0, 10) });
    expect(queue.status().messages).toBe(0);

    msg('send', msqid, 4, '8:100');
    expect(queue.receive({ maxBytes: 16, truncate: true })).toEqual({ type: 8, data: msgBytes(4, 0, 16) });
  });

  it('we create the queue and send; C receives by type and checks every byte', () => {
    const key = uniqueKey();
    const queue = MessageQueue.create({ key, mode: 0o600 });
    removeMsgAfterTest(queue.id);
    const items: Array<[number, Uint8Array]> = [
      [4, msgBytes(5, 0, 64)],
      [1, new TextEncoder().encode('hello from node')],
      [9, msgBytes(5, 2, 4096)],
      [4, new Uint8Array(0)],
      [2, msgBytes(5, 4, 1)],
    ];
    for (const [type, data] of items.slice(0, 3)) expect(queue.send(data, { type })).toBe(true);
    for (const [type, data] of items.slice(3)) msgsnd(queue.id, type, data); // and through the C-shaped layer
    queue.send('text as UTF-8', { type: 3 });

    const c = msg('stat', queue.id);
    const status = queue.status();
    expect({ qnum: Number(c.qnum), cbytes: Number(c.cbytes), lspid: Number(c.lspid), qbytes: Number(c.qbytes) }).toEqual({
      qnum: status.messages,
      cbytes: status.bytes,
      lspid: process.pid,
      qbytes: status.maxBytes,
    });
    expect(status.messages).toBe(6);

    // C: both messages of type 4, in order; then the lowest type <= 3 twice; then all the rest.
    expect(receivedLines(run(msgBin, ['recv', queue.id, 2, 4, 8192, '-']).stdout)).toEqual([described(4, items[0][1]), described(4, items[3][1])]);
    expect(receivedLines(run(msgBin, ['recv', queue.id, 2, -3, 8192, '-']).stdout)).toEqual([described(1, items[1][1]), described(2, items[4][1])]);
    expect(receivedLines(run(msgBin, ['recv', queue.id, 1, 3, 8192, 'except']).stdout)).toEqual([described(9, items[2][1])]);
    expect(receivedLines(run(msgBin, ['recv', queue.id, 1, 0, 8192, '-']).stdout)).toEqual([described(3, new TextEncoder().encode('text as UTF-8'))]);
    expect(run(msgBin, ['recv', queue.id, 1, 0, 8192, 'nowait']).out).toEqual({ result: 'ENOMSG' });
    const after = queue.status();
    expect(after.messages).toBe(0);
    expect(after.lastReceivePid).not.toBe(process.pid);
    expect(after.lastReceivePid).toBeGreaterThan(0);
  });
});

describe('C peers: request/response round trips', () => {
  it('a C echo server answers our requests (sync, async, C-shaped), 64 B and 4 KiB', async () => {
    const queue = MessageQueue.create({ key: IPC_PRIVATE });
    removeMsgAfterTest(queue.id);
    const rounds = 60;
    const server = start(msgBin, ['echo', queue.id, rounds * 3, 1, 1, 8192]);
    for (let i = 0; i < rounds; i++) {
      const request = msgBytes(21, i, i % 2 ? 4096 : 64);
      // Sync, async and C-shaped in turn.
      if (i % 3 === 0) {
        expect(queue.send(request, { type: 1, timeoutMs: 10_000 })).toBe(true);
        expect(queue.receive({ type: 2, timeoutMs: 10_000 })).toEqual({ type: 2, data: xor(request) });
      } else if (i % 3 === 1) {
        expect(await queue.sendAsync(request, { type: 1 })).toBe(true);
        expect(await queue.receiveAsync({ type: 2, timeoutMs: 10_000 })).toEqual({ type: 2, data: xor(request) });
      } else {
        msgsnd(queue.id, 1, request);
        expect(msgrcv(queue.id, 8192, 2)).toEqual({ mtype: 2, mtext: xor(request) });
      }
    }
    // The rest in a burst: every request queued first, then every answer.
    for (let i = rounds; i < rounds * 3; i++) queue.send(msgBytes(21, i, 64), { type: 1 });
    for (let i = rounds; i < rounds * 3; i++) expect(queue.receive({ type: 2, timeoutMs: 10_000 })!.data).toEqual(xor(msgBytes(21, i, 64)));
    const end = await server.exit;
    expect(end.code, end.stdout).toBe(0);
    expect(pairs(end.stdout).echoed).toBe(String(rounds * 3));
    expect(queue.status()).toMatchObject({ messages: 0, lastReceivePid: process.pid, lastSendPid: Number(pairs(end.stdout).pid) });
  });

  it('we answer a C client’s requests; it checks every reply byte', async () => {
    const key = uniqueKey();
    const msqid = removeMsgAfterTest(msgget(key, IPC_CREAT | IPC_EXCL | 0o600));
    const queue = MessageQueue.open(key);
    for (const [length, mode] of [
      [64, 'sync'],
      [4096, 'sync'],
      [64, 'async'],
      [4096, 'c-shaped'],
    ] as const) {
      const rounds = 50;
      const client = start(msgBin, ['client', msqid, rounds, 8, length, 1, 2]);
      for (let i = 0; i < rounds; i++) {
        if (mode === 'sync') {
          const request = queue.receive({ type: 1, timeoutMs: 10_000 })!;
          expect(request.data).toEqual(msgBytes(8, i, length));
          queue.send(xor(request.data), { type: 2 });
        } else if (mode === 'async') {
          const request = (await queue.receiveAsync({ type: 1, timeoutMs: 10_000 }))!;
          expect(request.type).toBe(1);
          await queue.sendAsync(xor(request.data), { type: 2 });
        } else {
          const request = msgrcv(msqid, length, 1);
          msgsnd(msqid, 2, xor(request.mtext));
        }
      }
      const end = await client.exit;
      expect(end.code, `${mode} ${length}: ${end.stdout}`).toBe(0);
      expect(pairs(end.stdout)).toMatchObject({ rounds: String(rounds), ok: '1' });
    }
  });
});

describe('C peers: struct msqid_ds', () => {
  it('C reads our qbytes (setMaxBytes and IPC_SET) and permissions; we read C’s qbytes; every field agrees', () => {
    const key = uniqueKey();
    const queue = MessageQueue.create({ key, maxBytes: 3000 });
    removeMsgAfterTest(queue.id);
    expect(msg('stat', queue.id).qbytes).toBe('3000');
    queue.setMaxBytes(5000);
    expect(msg('stat', queue.id).qbytes).toBe('5000');
    msgctl(queue.id, IPC_SET, { qbytes: 7000, perm: { mode: 0o604 } });
    expect(msg('stat', queue.id)).toMatchObject({ qbytes: '7000', mode: '0o604' });
    msg('qbytes', queue.id, 9000);
    expect(queue.status().maxBytes).toBe(9000);
    expect(msgctl(queue.id, IPC_STAT).qbytes).toBe(9000);

    queue.send(msgBytes(1, 0, 100), { type: 6 });
    msg('send', queue.id, 2, '3:50');
    msg('recv', queue.id, 1, 6, 8192, '-');
    const c = msg('stat', queue.id);
    const ds = msgctl(queue.id, IPC_STAT);
    expect({
      key: Number(c.key),
      uid: Number(c.uid),
      gid: Number(c.gid),
      cuid: Number(c.cuid),
      cgid: Number(c.cgid),
      mode: Number(c.mode),
      qnum: Number(c.qnum),
      cbytes: Number(c.cbytes),
      qbytes: Number(c.qbytes),
      lspid: Number(c.lspid),
      lrpid: Number(c.lrpid),
      stime: Number(c.stime),
      rtime: Number(c.rtime),
      ctime: Number(c.ctime),
    }).toEqual({
      key: ds.perm.key,
      uid: ds.perm.uid,
      gid: ds.perm.gid,
      cuid: ds.perm.cuid,
      cgid: ds.perm.cgid,
      mode: ds.perm.mode,
      qnum: ds.qnum,
      cbytes: ds.cbytes,
      qbytes: ds.qbytes,
      lspid: ds.lspid,
      lrpid: ds.lrpid,
      stime: ds.stime,
      rtime: ds.rtime,
      ctime: ds.ctime,
    });
    expect(ds).toMatchObject({ qnum: 1, cbytes: 50, qbytes: 9000 });
    // C sent last and received last, from two other processes.
    expect([ds.lspid, ds.lrpid].every((pid) => pid > 0 && pid !== process.pid)).toBe(true);
    expect(ds.lspid).not.toBe(ds.lrpid);
    const status = queue.status();
    expect(status).toMatchObject({ messages: 1, bytes: 50, maxBytes: 9000, lastSendPid: ds.lspid, lastReceivePid: ds.lrpid });
    expect(status.lastSendTime!.getTime()).toBe(ds.stime * 1000);
    expect(status.lastReceiveTime!.getTime()).toBe(ds.rtime * 1000);
  });

  it('C removes the queue we wait on: our waits end with EIDRM; and we remove a C queue', async () => {
    const queue = MessageQueue.create({});
    removeMsgAfterTest(queue.id);
    const waiting = queue.receiveAsync({ type: 1 });
    const settled = waiting.then(
      () => null,
      (error: unknown) => error,
    );
    msg('rmid', queue.id);
    const error = (await settled) as ShmError;
    expect(error).toBeInstanceOf(ShmError);
    expect(error.code).toBe('EIDRM');

    const key = uniqueKey();
    const msqid = Number(msg('create', key, '600').msqid);
    msgctl(msqid, IPC_RMID);
    expect(run(msgBin, ['open', key]).out).toMatchObject({ error: 'msgget', errno: '2' });
  });
});
