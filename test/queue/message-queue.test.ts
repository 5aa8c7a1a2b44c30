// MessageQueue in one process: create and open, send and receive with types, timeouts and noWait, truncation and
// E2BIG, a message that can never fit, peek, status, capacity, permissions, removal and close; misuse refused before
// any call. Across processes in processes.test.ts; the async calls in async.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { IPC_SET, MessageQueue, ShmError, ftok, getAbi, msgctl } from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { runProgram } from '../support/child.js';
import { procSysvRow, removeMsgAfterTest, uniqueKey } from '../support/sysv-objects.js';

const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-queue-'));
const keyFile = join(dir, 'key');
writeFileSync(keyFile, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MSGMAX = Number(readFileSync('/proc/sys/kernel/msgmax', 'utf8'));
const LONG_BITS = getAbi().sizeof.long * 8;

const NOBODY = 65534;
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/queue/${name}.ts`, import.meta.url));

function track(queue: MessageQueue): MessageQueue {
  removeMsgAfterTest(queue.id);
  return queue;
}

const text = (message: { data: Uint8Array } | null) => (message === null ? null : new TextDecoder().decode(message.data));

describe('MessageQueue.create / open', () => {
  it('creates a private queue, owner-only, empty', () => {
    const queue = track(MessageQueue.create());
    expect(queue).toMatchObject({ key: 0, created: true, closed: false });
    expect(queue.status()).toMatchObject({ mode: 0o600, messages: 0, bytes: 0, lastSendTime: null, lastReceiveTime: null, lastSendPid: 0 });
    expect(procSysvRow('msg', queue.id)).toMatchObject({ perms: 0o600, qnum: 0 });
  });

  it('creates by key, exclusive by default; exclusive: false opens the existing queue', () => {
    const key = uniqueKey();
    const queue = track(MessageQueue.create({ key, mode: 0o640, maxBytes: 1000 }));
    expect(queue.status()).toMatchObject({ key, mode: 0o640, maxBytes: 1000 });
    expect(catchError(() => MessageQueue.create({ key }))).toMatchObject({ code: 'EEXIST', syscall: 'msgget' });
    const again = MessageQueue.create({ key, exclusive: false, maxBytes: 5000 });
    expect(again).toMatchObject({ id: queue.id, created: false });
    expect(again.status().maxBytes).toBe(1000); // maxBytes applies only to a queue the call creates
  });

  it('opens by path + projId (ftok), key, { key } and { id }', () => {
    const queue = track(MessageQueue.create({ path: keyFile, projId: 'q' }));
    expect(queue.key).toBe(ftok(keyFile, 'q'));
    for (const target of [{ path: keyFile, projId: 'q' }, queue.key, { key: queue.key }, { id: queue.id }]) {
      expect(MessageQueue.open(target)).toMatchObject({ id: queue.id, key: queue.key, created: false });
    }
    expect(queue.keyHex).toBe('0x' + (queue.key >>> 0).toString(16).padStart(8, '0'));
  });

  it('keys are held as C holds key_t (signed), also when given unsigned', () => {
    const signed = uniqueKey() | 0x8000_0000;
    const queue = track(MessageQueue.create({ key: signed >>> 0 }));
    expect(queue.key).toBe(signed);
    expect(MessageQueue.open({ key: signed >>> 0 })).toMatchObject({ id: queue.id, key: signed });
  });

  it('open of a missing key is ENOENT; a private key or a bad target is refused before any call', () => {
    expect(catchError(() => MessageQueue.open(uniqueKey()))).toMatchObject({ code: 'ENOENT', syscall: 'msgget' });
    expect(() => MessageQueue.open(0)).toThrow(RangeError);
    expect(() => MessageQueue.open({ id: 1.5 })).toThrow(RangeError);
    expect(() => MessageQueue.open([] as never)).toThrow(TypeError);
    expect(() => MessageQueue.create({ maxBytes: -1 })).toThrow(RangeError);
    expect(() => MessageQueue.create({ mode: 0o7777 })).toThrow(RangeError);
    expect(() => MessageQueue.create({ projId: 1 })).toThrow(TypeError);
  });
});

describe('send and receive', () => {
  it('sends bytes and strings (type 1 by default) and receives them in order', () => {
    const queue = track(MessageQueue.create());
    expect(queue.send('héllo')).toBe(true);
    expect(queue.send(new Uint8Array([0, 1, 255]), { type: 7 })).toBe(true);
    expect(queue.send(Buffer.from(''))).toBe(true);
    expect(queue.status()).toMatchObject({ messages: 3, bytes: 6 + 3, lastSendPid: process.pid });
    expect(queue.receiveString()).toEqual({ type: 1, data: 'héllo' });
    const bytes = queue.receive();
    expect(bytes).toEqual({ type: 7, data: new Uint8Array([0, 1, 255]) });
    expect(bytes!.data).toBeInstanceOf(Uint8Array);
    expect(queue.receive()).toEqual({ type: 1, data: new Uint8Array(0) });
    expect(queue.status()).toMatchObject({ messages: 0, lastReceivePid: process.pid });
    expect(queue.status().lastReceiveTime).toBeInstanceOf(Date);
  });

  it('selects by type: 0 the first, > 0 that type, except: any other, < 0 the lowest type up to |type|', () => {
    const queue = track(MessageQueue.create());
    for (const type of [3, 1, 2, 5, 4]) queue.send(`m${type}`, { type });
    expect(text(queue.receive({ type: 2 }))).toBe('m2');
    expect(text(queue.receive({ type: -4 }))).toBe('m1');
    expect(text(queue.receive({ type: 3, except: true }))).toBe('m5');
    expect(text(queue.receive())).toBe('m3');
    expect(queue.receive({ type: 9, noWait: true })).toBeNull();
    expect(text(queue.receive({ type: -9 }))).toBe('m4');
  });

  it('receive returns null after its timeout or at once with noWait; send returns false on a full queue', () => {
    const queue = track(MessageQueue.create({ maxBytes: 200 }));
    expect(queue.receive({ noWait: true })).toBeNull();
    expect(queue.receive({ timeoutMs: 20 })).toBeNull();
    expect(queue.receive({ timeoutMs: 0 })).toBeNull();
    expect(queue.send(new Uint8Array(150))).toBe(true);
    expect(queue.send(new Uint8Array(100), { noWait: true })).toBe(false);
    expect(queue.send(new Uint8Array(100), { timeoutMs: 20 })).toBe(false);
    expect(queue.status().messages).toBe(1);
    queue.receive();
    expect(queue.send(new Uint8Array(100), { timeoutMs: 20 })).toBe(true);
  });

  it('a message longer than maxBytes is E2BIG (with advice) and stays queued; truncate: true takes it cut', () => {
    const queue = track(MessageQueue.create());
    queue.send('x'.repeat(100), { type: 3 });
    const error = catchError(() => queue.receive({ maxBytes: 10 }));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'E2BIG', syscall: 'msgrcv', operation: 'MessageQueue.receive', msqid: queue.id });
    expect(error.errno).toBe(getAbi().errno.E2BIG);
    expect(error.message).toMatch(/stays in the queue: pass a larger maxBytes .*or truncate: true/);
    expect(queue.status().messages).toBe(1);
    expect(queue.receive({ maxBytes: 10, truncate: true })).toEqual({ type: 3, data: new TextEncoder().encode('x'.repeat(10)) });
    expect(queue.status().messages).toBe(0);
  });

  it('maxBytes defaults to msgmax: the largest message there can be is received whole', () => {
    const queue = track(MessageQueue.create({ maxBytes: MSGMAX }));
    const big = new Uint8Array(MSGMAX).fill(7);
    expect(queue.send(big)).toBe(true);
    expect(queue.receive()!.data).toEqual(big);
  });

  it('a message larger than the queue can ever hold is EMSGSIZE instead of a wait without end', () => {
    const queue = track(MessageQueue.create({ maxBytes: 100 }));
    const error = catchError(() => queue.send(new Uint8Array(101)));
    expect(error).toMatchObject({ code: 'EMSGSIZE', operation: 'MessageQueue.send', msqid: queue.id });
    expect(error.message).toMatch(/holds at most 100 bytes/);
    expect(queue.send(new Uint8Array(100))).toBe(true);
  });

  it('a message larger than msgmax is the kernel EINVAL, with advice', () => {
    const queue = track(MessageQueue.create());
    expect(catchError(() => queue.send(new Uint8Array(MSGMAX + 1)))).toMatchObject({ code: 'EINVAL', syscall: 'msgsnd' });
  });

  it('types: >= 1 to send, any C long to receive; numbers beyond 2^53 as bigints', () => {
    const queue = track(MessageQueue.create());
    const max = (1n << BigInt(LONG_BITS - 1)) - 1n;
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53, 0n, max + 1n]) expect(() => queue.send('x', { type: bad })).toThrow(RangeError);
    expect(() => queue.send('x', { type: '1' as never })).toThrow(TypeError);
    expect(() => queue.receive({ type: -(1n << BigInt(LONG_BITS - 1)) - 1n, noWait: true })).toThrow(RangeError);
    expect(queue.send('big', { type: max })).toBe(true);
    const got = queue.receive({ type: max });
    expect(got!.type).toBe(LONG_BITS === 64 ? max : Number(max));
    if (LONG_BITS === 64) {
      queue.send('safe', { type: 2n ** 40n }); // a bigint in, a number out where it is exact
      expect(queue.receive({ type: -(2 ** 41) })).toMatchObject({ type: 2 ** 40 });
    }
    expect(queue.receive({ type: -(1n << BigInt(LONG_BITS - 1)), noWait: true })).toBeNull(); // LONG_MIN: the kernel reads it as LONG_MAX
  });

  it('refuses misuse before any call', () => {
    const queue = track(MessageQueue.create());
    expect(() => queue.send(42 as never)).toThrow(TypeError);
    expect(() => queue.send([1, 2] as never)).toThrow(TypeError);
    expect(() => queue.send('x', { noWait: true, timeoutMs: 5 })).toThrow(RangeError);
    expect(() => queue.send('x', { noWait: 1 as never })).toThrow(TypeError);
    expect(() => queue.send('x', 'fast' as never)).toThrow(TypeError);
    expect(() => queue.receive({ except: true })).toThrow(RangeError);
    expect(() => queue.receive({ type: -2, except: true })).toThrow(RangeError);
    expect(() => queue.receive({ maxBytes: -1 })).toThrow(RangeError);
    expect(() => queue.receive({ maxBytes: 2 ** 31 })).toThrow(RangeError);
    expect(() => queue.receive({ truncate: 'yes' as never })).toThrow(TypeError);
    expect(() => queue.receive({ timeoutMs: -5 })).toThrow(RangeError);
    expect(() => queue.peek(-1)).toThrow(RangeError);
    expect(() => queue.setMaxBytes(1.5)).toThrow(RangeError);
    // 0 would take no message at all (the kernel also needs qnum + 1 <= qbytes); above 2^31 - 1 the kernel's int wraps.
    expect(() => queue.setMaxBytes(0)).toThrow(RangeError);
    expect(() => queue.setMaxBytes(2 ** 31)).toThrow(RangeError);
    expect(() => queue.setMaxBytes(2 ** 32 + 100)).toThrow(RangeError);
    expect(() => MessageQueue.create({ maxBytes: 0 })).toThrow(RangeError);
    expect(queue.status().messages).toBe(0);
  });
});

describe('status, capacity, permissions, removal, close', () => {
  it('status: counts, capacity, pids and times (Date | null)', () => {
    const queue = track(MessageQueue.create({ key: uniqueKey() }));
    const before = queue.status();
    expect(before.lastChangeTime).toBeInstanceOf(Date);
    expect(before.maxBytes).toBe(Number(readFileSync('/proc/sys/kernel/msgmnb', 'utf8')));
    queue.send('abc');
    queue.send('de');
    expect(queue.status()).toMatchObject({ messages: 2, bytes: 5, lastSendPid: process.pid, lastReceivePid: 0, lastReceiveTime: null });
    expect(queue.status().lastSendTime).toBeInstanceOf(Date);
  });

  it('setMaxBytes and setPermissions change what they are given and keep the rest', () => {
    const queue = track(MessageQueue.create({ mode: 0o600 }));
    queue.setMaxBytes(4096);
    queue.setPermissions({ mode: 0o620 });
    expect(queue.status()).toMatchObject({ maxBytes: 4096, mode: 0o620, uid: process.getuid!() });
    queue.setPermissions({ gid: 4242 });
    expect(queue.status()).toMatchObject({ maxBytes: 4096, mode: 0o620, gid: 4242 });
  });

  it('setPermissions refuses misuse before any call: unknown keys and wrong types (TypeError), out of range (RangeError)', () => {
    const queue = track(MessageQueue.create({ mode: 0o640 }));
    expect(() => queue.setPermissions({ mode: 0o600, qbytes: 10 } as never)).toThrow(TypeError);
    expect(() => queue.setPermissions({ perm: { mode: 0o600 } } as never)).toThrow(TypeError);
    expect(() => queue.setPermissions({ mode: '600' } as never)).toThrow(TypeError);
    expect(() => queue.setPermissions({ gid: null } as never)).toThrow(TypeError);
    expect(() => queue.setPermissions(undefined as never)).toThrow(TypeError);
    expect(() => queue.setPermissions({ mode: 0o1000 })).toThrow(RangeError);
    expect(() => queue.setPermissions({ uid: -1 })).toThrow(RangeError);
    expect(() => queue.setPermissions({ gid: 2 ** 32 })).toThrow(RangeError);
    expect(() => queue.setMaxBytes('10' as never)).toThrow(TypeError);
    expect(queue.status()).toMatchObject({ mode: 0o640, uid: process.getuid!(), gid: process.getgid!() });
  });

  it('the owner restores the mode of a queue it cannot read (mode 0), and sets its capacity: no IPC_STAT first', () => {
    const queue = track(MessageQueue.create());
    queue.setPermissions({ uid: NOBODY, gid: NOBODY, mode: 0 });
    const result = runProgram(fixture('nobody-restores-mode'), [queue.id]);
    expect(result.stderr).toBe('');
    const r = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(r.before).toMatchObject({ code: 'EACCES' }); // the owner could not read it
    expect(r).toMatchObject({ maxBytes: 'ok', restored: 'ok', after: { uid: NOBODY, gid: NOBODY, mode: 0o600, maxBytes: 1000 } });
    expect(queue.status()).toMatchObject({ uid: NOBODY, gid: NOBODY, mode: 0o600, maxBytes: 1000 });
  });

  it('a capacity of 0 (set by a peer) takes no message, not even an empty one: EMSGSIZE rather than a wait forever', async () => {
    const queue = track(MessageQueue.create());
    msgctl(queue.id, IPC_SET, { qbytes: 0 });
    // (The timeouts only keep a broken library from hanging the test: the answer comes before any wait.)
    for (const send of [() => queue.send('', { noWait: true }), () => queue.send('', { timeoutMs: 20_000 }), () => queue.send('x', { timeoutMs: 20_000 })]) {
      const error = catchError(send);
      expect(error).toMatchObject({ code: 'EMSGSIZE', msqid: queue.id });
      expect(error.message).toContain('maxBytes (msg_qbytes) is 0');
    }
    await expect(queue.sendAsync('', { noWait: true })).rejects.toMatchObject({ code: 'EMSGSIZE' });
    await expect(queue.sendAsync('', { timeoutMs: 20_000 })).rejects.toMatchObject({ code: 'EMSGSIZE' });
    expect(queue.status()).toMatchObject({ messages: 0, maxBytes: 0 });
  });

  it('remove() destroys the queue and its messages; later calls are kernel errors', () => {
    const queue = MessageQueue.create();
    queue.send('lost');
    queue.remove();
    expect(procSysvRow('msg', queue.id)).toBeUndefined();
    expect(catchError(() => queue.status())).toBeInstanceOf(ShmError);
    expect(catchError(() => queue.receive({ noWait: true }))).toMatchObject({ code: 'EIDRM' });
  });

  it('`using` closes the object, not the queue', () => {
    const created = track(MessageQueue.create());
    let closed: MessageQueue;
    {
      using queue = MessageQueue.open({ id: created.id });
      queue.send('kept');
      closed = queue;
    }
    expect(closed.closed).toBe(true);
    expect(catchError(() => closed.send('x'))).toMatchObject({ code: 'ERR_QUEUE_CLOSED', operation: 'MessageQueue.send' });
    expect(catchError(() => closed.receive())).toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
    expect(created.receiveString()).toEqual({ type: 1, data: 'kept' });
  });

  it('inspect shows the counts', () => {
    const queue = track(MessageQueue.create({ maxBytes: 1000 }));
    queue.send('12345');
    expect(inspect(queue)).toBe(`MessageQueue { id: ${queue.id}, key: 0x00000000, messages: 1, bytes: 5, maxBytes: 1000 }`);
  });
});
