// Debian's python3-sysv-ipc as a real peer for semaphores and message queues, in both directions. sysv_ipc's
// Semaphore is a set of one semaphore; its MessageQueue sends and receives (bytes, type). Its attributes are
// compared with our status(). Longer Python is in test/fixtures/peers/sysv-ipc-peer.py; our side's children in
// test/fixtures/peers/*.ts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageQueue, SemaphoreSet, ShmError } from '../../lib/index.js';
import { killChildren, recordProgram } from '../support/child.js';
import { removeMadeSysvObjects, removeMsgAfterTest, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';

// Debian's interpreter, where python3-sysv-ipc lives (another python3 may come first on PATH).
const PYTHON = '/usr/bin/python3';
const available = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sysv_ipc']).status === 0;
const reason = existsSync(PYTHON) ? `${PYTHON} cannot import sysv_ipc (Debian: apt-get install python3-sysv-ipc)` : `${PYTHON} is missing`;

if (!available) it.skip(`python3-sysv-ipc peers for semaphores and queues are skipped: ${reason}`, () => {});

const PEER = fileURLToPath(new URL('../fixtures/peers/sysv-ipc-peer.py', import.meta.url));
const SEM_ACQUIRE = 'test/fixtures/peers/sem-acquire.ts';
const SEM_OPEN_INITIALIZED = 'test/fixtures/peers/sem-open-initialized.ts';

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every set and queue a test makes is removed after the test (test/support/sysv-objects.ts), and so is
// whatever a peer made under a key it was given, even if it failed before saying which id it made.
const pythons = new Set<ChildProcess>();
const peerKeys: Array<['sem' | 'msg', number]> = [];

function removeKeyAfterTest(kind: 'sem' | 'msg', key: number): number {
  peerKeys.push([kind, key]);
  return key;
}

afterEach(async () => {
  await killChildren();
  for (const child of pythons) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  pythons.clear();
  for (const [kind, key] of peerKeys.splice(0)) {
    const [, ...lines] = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n');
    for (const line of lines) {
      const [rowKey, id] = line.trim().split(/\s+/).map(Number);
      if (rowKey === (key | 0)) (kind === 'sem' ? removeSemAfterTest : removeMsgAfterTest)(id);
    }
  }
  removeMadeSysvObjects();
});

/** Runs Python code (a one-liner's worth) and returns its stdout parsed as JSON. */
function python<T = Record<string, unknown>>(code: string): T {
  const result = spawnSync(PYTHON, ['-c', `import json, os, sysv_ipc\n${code}`], { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as T;
}

interface Peer {
  child: ChildProcess;
  /** The next JSON line it prints. */
  next(): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts test/fixtures/peers/sysv-ipc-peer.py with a command. */
function startPeer(args: Array<string | number>): Peer {
  const child = spawn(PYTHON, [PEER, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  pythons.add(child);
  const lines: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let ended = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stderr });
    }),
  );
  const next = async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const line = lines.shift();
      if (line !== undefined) return JSON.parse(line) as Record<string, unknown>;
      if (ended || Date.now() > deadline) throw new Error(`${ended ? 'python ended' : 'timed out'} before printing a line; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { child, next, exit };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Python's view of a Semaphore as JSON. */
const ATTRIBUTES = `lambda s: {"id": s.id, "key": s.key, "value": s.value, "undo": s.undo, "mode": s.mode, "uid": s.uid, "gid": s.gid,
  "cuid": s.cuid, "cgid": s.cgid, "last_pid": s.last_pid, "waiting_for_nonzero": s.waiting_for_nonzero,
  "waiting_for_zero": s.waiting_for_zero, "o_time": s.o_time}`;

interface PySemaphore {
  id: number;
  key: number;
  value: number;
  undo: boolean;
  mode: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  last_pid: number;
  waiting_for_nonzero: number;
  waiting_for_zero: number;
  o_time: number;
}

function pySemaphore(key: number, extra = ''): PySemaphore & { pid: number } {
  return python(`attributes = ${ATTRIBUTES}\ns = sysv_ipc.Semaphore(${key})\n${extra}\nprint(json.dumps({**attributes(s), "pid": os.getpid()}))`);
}

/** Our status() in Python's vocabulary, for a set of one. */
function ours(set: SemaphoreSet) {
  const status = set.status();
  const [semaphore] = status.semaphores;
  return {
    id: status.id,
    key: status.key,
    value: semaphore.value,
    mode: status.mode,
    uid: status.uid,
    gid: status.gid,
    cuid: status.cuid,
    cgid: status.cgid,
    last_pid: semaphore.lastPid,
    waiting_for_nonzero: semaphore.waitingForNonzero,
    waiting_for_zero: semaphore.waitingForZero,
    o_time: status.lastOperationTime === null ? 0 : status.lastOperationTime.getTime() / 1000,
  };
}

const xor = (bytes: Uint8Array) => bytes.map((b) => b ^ 0x5a);

/** The formula of test/peers/c/msg-peer.c and sysv-ipc-peer.py. */
function msgBytes(seed: number, i: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let j = 0; j < length; j++) out[j] = (j * 131 + seed * 7 + i * 17 + (j >> 8) * 3) & 0xff;
  return out;
}

const ROUNDS = 200;

describe.runIf(available)('python3-sysv-ipc Semaphore as a peer', () => {
  it('sysv_ipc creates with initial_value; we open it and our status matches its attributes', () => {
    const key = removeKeyAfterTest('sem', uniqueKey());
    const made = python<PySemaphore & { pid: number }>(
      `attributes = ${ATTRIBUTES}\ns = sysv_ipc.Semaphore(${key}, sysv_ipc.IPC_CREX, mode=0o640, initial_value=3)\nprint(json.dumps({**attributes(s), "pid": os.getpid()}))`,
    );
    removeSemAfterTest(made.id);
    const set = SemaphoreSet.open(key);
    expect(set.count).toBe(1); // sysv_ipc's semaphores are sets of one
    const { pid, ...attributes } = made;
    // sysv_ipc sets initial_value with SETVAL after IPC_CREX: the last pid is Python's, and no semop happened
    // yet (o_time 0): the window in which an opener can see the set before it is initialised.
    expect(attributes).toMatchObject({ value: 3, mode: 0o640, last_pid: pid, o_time: 0, undo: false });
    const { undo: _undo, ...seen } = attributes;
    expect(ours(set)).toEqual(seen);
    expect(set.status().lastOperationTime).toBeNull();
  });

  it('we create with a value; sysv_ipc opens it, sees our attributes, acquires and releases; we see its pid and value', () => {
    const key = uniqueKey();
    const set = SemaphoreSet.create({ key, values: [2], mode: 0o644 });
    removeSemAfterTest(set.id);
    const { pid: _pid, undo, ...seen } = pySemaphore(key);
    expect(undo).toBe(false);
    expect(seen).toEqual(ours(set));
    expect(seen).toMatchObject({ id: set.id, key, value: 2, mode: 0o644, uid: process.getuid!(), cuid: process.getuid!() });

    const after = pySemaphore(key, 's.acquire(0)\ns.release(3)');
    expect(after.value).toBe(4);
    expect(set.value()).toBe(4);
    expect(set.status().semaphores[0].lastPid).toBe(after.pid);
    expect(after.o_time).toBeGreaterThan(0);
    expect(ours(set).o_time).toBe(after.o_time);
  });

  it('ping-pong across processes over two sysv_ipc semaphores, both directions, N rounds', async () => {
    const [a, b] = [SemaphoreSet.create({ key: uniqueKey() }), SemaphoreSet.create({ key: uniqueKey() })];
    removeSemAfterTest(a.id);
    removeSemAfterTest(b.id);
    // Python pings (releases a, acquires b); we pong.
    const ping = startPeer(['ping', a.key, b.key, ROUNDS]);
    for (let i = 0; i < ROUNDS; i++) {
      expect(a.acquire({ undo: false, timeoutMs: 10_000 }), `round ${i}`).toBe(true);
      b.release({ undo: false });
    }
    expect(await ping.next()).toMatchObject({ rounds: ROUNDS });
    expect((await ping.exit).code).toBe(0);
    // We ping; Python pongs.
    const pong = startPeer(['pong', a.key, b.key, ROUNDS]);
    for (let i = 0; i < ROUNDS; i++) {
      a.release({ undo: false });
      expect(b.acquire({ undo: false, timeoutMs: 10_000 }), `round ${i}`).toBe(true);
    }
    const done = await pong.next();
    expect(done).toMatchObject({ rounds: ROUNDS });
    expect((await pong.exit).code).toBe(0);
    expect([a.value(), b.value()]).toEqual([0, 0]);
    expect(pySemaphore(a.key).last_pid).toBe(done.pid); // its last acquire
    expect(pySemaphore(b.key).last_pid).toBe(process.pid); // our last acquire
  });

  it('waiting_for_nonzero: Python counts our blocked child, and its release wakes it; we count a blocked Python', async () => {
    const set = SemaphoreSet.create({ key: uniqueKey(), values: [0] });
    removeSemAfterTest(set.id);

    const child = recordProgram(SEM_ACQUIRE, [set.id, 0, 1, 0, 'exit']);
    await child.line(/^waiting/);
    await until(() => set.status().semaphores[0].waitingForNonzero === 1, 'our child waits');
    // Our child waits in the kernel in slices; between two slices it is not counted, so Python may have to look twice.
    const seen = python<{ waiting_for_nonzero: number }>(
      `import time\ns = sysv_ipc.Semaphore(${set.key})\nfor _ in range(2000):\n  if s.waiting_for_nonzero == 1: break\n  time.sleep(0.005)\n` +
        'seen = s.waiting_for_nonzero\ns.release()\nprint(json.dumps({"waiting_for_nonzero": seen}))',
    );
    expect(seen.waiting_for_nonzero).toBe(1);
    const done = await child.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^acquired \d+ 0$/m);

    // Python blocks in acquire(); our status counts it; our release wakes it.
    const peer = startPeer(['acquire', set.key]);
    const { waiting } = await peer.next();
    await until(() => set.status().semaphores[0].waitingForNonzero === 1, 'Python waits');
    set.release({ undo: false });
    const acquired = (await peer.next()) as { acquired: PySemaphore; pid: number };
    expect(acquired.pid).toBe(waiting);
    expect(acquired.acquired).toMatchObject({ value: 0, last_pid: waiting, waiting_for_nonzero: 0 });
    expect(set.status().semaphores[0]).toMatchObject({ value: 0, lastPid: waiting, waitingForNonzero: 0 });
  });

  it('undo: our child’s acquire (undo by default) is given back at its exit, and Python’s with undo = True when killed', async () => {
    const set = SemaphoreSet.create({ key: uniqueKey(), values: [5] });
    removeSemAfterTest(set.id);

    for (const [undo, after] of [
      [1, 5],
      [0, 3],
    ]) {
      set.setValue(0, 5);
      const child = recordProgram(SEM_ACQUIRE, [set.id, 0, 2, undo, 'stay']);
      await child.line(/^acquired \d+ 3$/m);
      expect(pySemaphore(set.key).value).toBe(3);
      child.child.stdin!.end();
      expect((await child.exit).code).toBe(0);
      expect(pySemaphore(set.key).value, `undo ${undo}`).toBe(after);
    }

    set.setValue(0, 5);
    for (const [undo, after] of [
      ['1', 5],
      ['0', 1],
    ]) {
      const peer = startPeer(['hold', set.key, 4, undo]);
      const held = (await peer.next()) as { held: PySemaphore; pid: number };
      expect(held.held).toMatchObject({ value: 1, undo: undo === '1', last_pid: held.pid });
      expect(set.value()).toBe(1);
      peer.child.kill('SIGKILL');
      expect((await peer.exit).signal).toBe('SIGKILL');
      expect(set.value(), `Python undo ${undo}`).toBe(after);
      set.setValue(0, 5);
    }
  });

  it('a set sysv_ipc created with initial_value is not initialised until its first operation: open({ waitInitializedMs }) waits for it', async () => {
    const key = removeKeyAfterTest('sem', uniqueKey());
    const made = python<{ id: number }>(`s = sysv_ipc.Semaphore(${key}, sysv_ipc.IPC_CREX, initial_value=2)\nprint(json.dumps({"id": s.id}))`);
    removeSemAfterTest(made.id);
    const child = recordProgram(SEM_OPEN_INITIALIZED, [key, 15_000]);
    await child.line(/^opening$/m);
    const operated = python<{ ms: number }>(
      `import time\nms = time.time() * 1000\ns = sysv_ipc.Semaphore(${key})\ns.acquire(0)\ns.release()\nprint(json.dumps({"ms": ms}))`,
    );
    const done = await child.exit;
    expect(done.code, done.stderr).toBe(0);
    const opened = JSON.parse(done.stdout.split('\n')[1]) as { id: number; value: number; openedAtMs: number; lastOperationMs: number | null };
    expect(opened).toMatchObject({ id: made.id, value: 2 });
    expect(opened.lastOperationMs).not.toBeNull();
    // open() returned only after Python's first semop (the clocks are the same machine's).
    expect(opened.openedAtMs).toBeGreaterThanOrEqual(Math.floor(operated.ms));
  });
});

// ---------------------------------------------------------------------------------------------------------------
interface PyQueue {
  id: number;
  key: number;
  current_messages: number;
  max_size: number;
  last_send_pid: number;
  last_receive_pid: number;
  mode: number;
  uid: number;
  cuid: number;
  received?: Array<[string, number]>;
  pid: number;
}

/** Python opens the queue by key, runs `extra` (which may append to `received`: [hex, type] pairs), prints its attributes. */
function pyQueue(key: number, extra = ''): PyQueue {
  return python(
    `q = sysv_ipc.MessageQueue(${key}, max_message_size=65536)\nreceived = []\n${extra}\n` +
      `print(json.dumps({"id": q.id, "key": q.key, "current_messages": q.current_messages, "max_size": q.max_size, ` +
      `"last_send_pid": q.last_send_pid, "last_receive_pid": q.last_receive_pid, "mode": q.mode, "uid": q.uid, "cuid": q.cuid, ` +
      `"received": received, "pid": os.getpid()}))`,
  );
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe.runIf(available)('python3-sysv-ipc MessageQueue as a peer', () => {
  it('sysv_ipc creates and sends messages of several types; we receive them by type; its attributes match our status', () => {
    const key = removeKeyAfterTest('msg', uniqueKey());
    const made = python<{ id: number }>(
      `q = sysv_ipc.MessageQueue(${key}, sysv_ipc.IPC_CREX, mode=0o640, max_message_size=8192)\n` +
        'for t, m in [(3, b"three"), (1, b"one"), (2, bytes(range(256)) * 16), (1, b""), (7, "seven, as UTF-8")]:\n  q.send(m, type=t)\n' +
        'print(json.dumps({"id": q.id}))',
    ).id;
    removeMsgAfterTest(made);
    const queue = MessageQueue.open(key);
    expect(queue.id).toBe(made);
    const seen = pyQueue(key);
    const status = queue.status();
    expect(status).toMatchObject({
      messages: seen.current_messages,
      maxBytes: seen.max_size,
      lastSendPid: seen.last_send_pid,
      lastReceivePid: seen.last_receive_pid,
      mode: seen.mode,
      uid: seen.uid,
      cuid: seen.cuid,
    });
    expect(seen.current_messages).toBe(5);
    expect(status.bytes).toBe(5 + 3 + 4096 + 0 + 15);

    const text = (r: { type: number | bigint; data: Uint8Array } | null) => r && { type: r.type, text: Buffer.from(r.data).toString('latin1') };
    expect(text(queue.receive({ type: 1 }))).toEqual({ type: 1, text: 'one' });
    expect(text(queue.receive({ type: -2 }))).toEqual({ type: 1, text: '' });
    expect(queue.receive({ type: 2 })).toEqual({ type: 2, data: new Uint8Array(Buffer.from(Array.from({ length: 4096 }, (_, i) => i & 0xff))) });
    expect(queue.receiveString({ type: 3, except: true })).toEqual({ type: 7, data: 'seven, as UTF-8' });
    expect(text(queue.receive({ type: 3 }))).toEqual({ type: 3, text: 'three' });
    expect(queue.receive({ noWait: true })).toBeNull();
    expect(pyQueue(key)).toMatchObject({ current_messages: 0, last_receive_pid: process.pid });
  });

  it('we create with maxBytes and send with types; sysv_ipc receives by type; max_size is qbytes both ways', () => {
    const key = uniqueKey();
    const queue = MessageQueue.create({ key, maxBytes: 4000, mode: 0o600 });
    removeMsgAfterTest(queue.id);
    const messages: Array<[number, Uint8Array]> = [
      [5, msgBytes(1, 0, 64)],
      [2, msgBytes(1, 1, 1000)],
      [5, new Uint8Array(0)],
      [9, msgBytes(1, 3, 7)],
    ];
    for (const [type, data] of messages) expect(queue.send(data, { type })).toBe(true);
    const seen = pyQueue(key, 'for t in [5, -4, 9, 0]:\n  m, ty = q.receive(type=t)\n  received.append([m.hex(), ty])\nq.max_size = 8000');
    expect(seen.received).toEqual([
      [hex(messages[0][1]), 5],
      [hex(messages[1][1]), 2],
      [hex(messages[3][1]), 9],
      [hex(messages[2][1]), 5],
    ]);
    expect(seen).toMatchObject({ id: queue.id, key, current_messages: 0, last_send_pid: process.pid, mode: 0o600 });
    expect(queue.status()).toMatchObject({ messages: 0, maxBytes: 8000, lastReceivePid: seen.pid });
    queue.setMaxBytes(5000);
    expect(pyQueue(key).max_size).toBe(5000);
  });

  it('round trips both ways: sysv_ipc echoes our requests (sync and async); we answer a sysv_ipc client', async () => {
    const queue = MessageQueue.create({ key: uniqueKey() });
    removeMsgAfterTest(queue.id);
    const rounds = 50;
    const echo = startPeer(['echo', queue.key, rounds * 2]);
    for (let i = 0; i < rounds * 2; i++) {
      const request = msgBytes(4, i, i % 2 ? 4096 : 64);
      if (i < rounds) {
        expect(queue.send(request, { type: 1 })).toBe(true);
        expect(queue.receive({ type: 2, timeoutMs: 10_000 })).toEqual({ type: 2, data: xor(request) });
      } else {
        expect(await queue.sendAsync(request, { type: 1 })).toBe(true);
        expect(await queue.receiveAsync({ type: 2, timeoutMs: 10_000 })).toEqual({ type: 2, data: xor(request) });
      }
    }
    expect(await echo.next()).toMatchObject({ echoed: rounds * 2 });
    expect((await echo.exit).code).toBe(0);

    for (const length of [64, 4096]) {
      const client = startPeer(['client', queue.key, rounds, 9, length]);
      for (let i = 0; i < rounds; i++) {
        const request = queue.receive({ type: 1, timeoutMs: 10_000 })!;
        expect(request.data).toEqual(msgBytes(9, i, length));
        queue.send(xor(request.data), { type: 2 });
      }
      expect(await client.next()).toMatchObject({ rounds, ok: true });
      expect((await client.exit).code).toBe(0);
    }
    expect(queue.status().messages).toBe(0);
  });

  it('sysv_ipc removes the queue we wait on: our wait ends with EIDRM', async () => {
    const queue = MessageQueue.create({ key: uniqueKey() });
    removeMsgAfterTest(queue.id);
    const settled = queue.receiveAsync({ type: 1 }).then(
      () => null,
      (error: unknown) => error,
    );
    python(`sysv_ipc.remove_message_queue(${queue.id})\nprint("{}")`);
    const error = (await settled) as ShmError;
    expect(error).toBeInstanceOf(ShmError);
    expect(error.code).toBe('EIDRM');
  });
});
