// The mailbox within one process: the receiving end and several senders over one segment. Its calls, what
// senders see, lanes, fairness, waiting, cancellation and misuse. Across processes, kills and hostile writers:
// mailbox-processes, mailbox-hostile and mailbox.property tests.
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, Mailbox, MailboxSender, Producer, ShmError, type MailboxMessage } from '../../lib/index.js';
import { catchError } from '../support/errors.js';

const open: Array<Mailbox | MailboxSender> = [];
afterEach(() => {
  for (const end of open.splice(0).reverse()) end.close();
});

function mailbox(options: Parameters<typeof Mailbox.create>[0] = {}): Mailbox {
  const m = Mailbox.create({ spin: 0, ...options });
  open.push(m);
  return m;
}

function connect(m: Mailbox): MailboxSender {
  const s = Mailbox.connect(m.id, { spin: 0 });
  open.push(s);
  return s;
}

const text = (m: MailboxMessage | null) => (m === null ? null : Buffer.from(m.data).toString());

describe('Mailbox.create and Mailbox.connect', () => {
  it('creates a receiving end with an id, lanes of a power-of-two capacity and a sender limit', () => {
    const m = mailbox({ capacity: 1000, senders: 3 });
    expect(m.id).toBeGreaterThanOrEqual(0);
    expect(m.capacity).toBe(1024);
    expect(m.maxMessageSize).toBe(1016);
    expect(m.maxSenders).toBe(3);
    expect(m.senders).toEqual([]);
    expect(m.closed).toBe(false);
  });

  it('defaults: 16 senders, 64 KiB lanes', () => {
    const m = mailbox();
    expect(m.maxSenders).toBe(16);
    expect(m.capacity).toBe(64 * 1024);
  });

  it('connect returns a sender with an id of its own, unique over the mailbox lifetime, and a lane', () => {
    const m = mailbox({ senders: 2 });
    const a = connect(m);
    const b = connect(m);
    expect(a).toBeInstanceOf(MailboxSender);
    expect(a).toBeInstanceOf(Producer); // each lane is a channel ring: a sender is its producer
    expect([a.sender, b.sender]).toEqual([1, 2]);
    expect([a.lane, b.lane]).toEqual([0, 1]);
    expect(a.id).toBe(m.id);
    expect(a.capacity).toBe(m.capacity);
    expect(a.peerPid).toBe(process.pid);
    expect(m.senders).toEqual([
      { sender: 1, pid: process.pid },
      { sender: 2, pid: process.pid },
    ]);
  });

  it('refuses a sender beyond the limit with EAGAIN, and takes one again once a lane was given back', () => {
    const m = mailbox({ senders: 1 });
    const a = connect(m);
    const error = catchError(() => Mailbox.connect(m.id));
    expect(error).toBeInstanceOf(ShmError);
    expect(error.code).toBe('EAGAIN');
    expect(error.message).toMatch(/all 1 sender lanes .* created with senders: 1/);
    a.send(Buffer.from('last words'));
    a.close();
    // The lane is freed once the receiver has taken what the sender published.
    expect(text(m.tryReceive())).toBe('last words');
    expect(m.tryReceive()).toBeNull();
    const b = connect(m);
    expect(b.lane).toBe(0);
    expect(b.sender).toBe(2);
  });

  it.each([
    [{ capacity: 0 }, RangeError, /capacity must be an integer in \[1, /],
    [{ capacity: '64' }, TypeError, /capacity must be a number/],
    [{ senders: 0 }, RangeError, /senders/],
    [{ senders: null }, TypeError, /senders/],
    [{ senders: 1025 }, RangeError, /senders/],
    [{ senders: 1.5 }, RangeError, /senders/],
    [{ mode: 0o1000 }, RangeError, /mode must be permission bits/],
    [{ spin: -1 }, RangeError, /spin/],
  ])('Mailbox.create(%o) is misuse: thrown before any syscall', (options, type, message) => {
    const error = catchError(() => Mailbox.create(options as never));
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['-1', -1, RangeError],
    ['1.5', 1.5, RangeError],
    ['a string', '3', TypeError],
  ])('Mailbox.connect(%s) is misuse', (_name, id, type) => {
    expect(() => Mailbox.connect(id as never)).toThrow(type);
  });

  it('connect to a channel (not a mailbox) is EPROTO, and a sender gets nothing of it', () => {
    const producer = Channel.create({ capacity: 4096 });
    try {
      const error = catchError(() => Mailbox.connect(producer.id));
      expect(error.code).toBe('EPROTO');
      expect(error.message).toMatch(/is not a mailbox/);
    } finally {
      producer.close();
    }
  });

  it('connect after the receiver closed is EPIPE (or the kernel forgot the segment: EINVAL/EIDRM)', () => {
    const m = Mailbox.create();
    const keep = Mailbox.connect(m.id); // keeps the segment alive
    m.close();
    try {
      const error = catchError(() => Mailbox.connect(m.id));
      expect(error.code).toBe('EPIPE');
      expect(error.message).toMatch(/the receiver has already closed this mailbox/);
    } finally {
      keep.close();
    }
    expect(['EINVAL', 'EIDRM']).toContain(catchError(() => Mailbox.connect(m.id)).code);
  });
});

describe('receiving', () => {
  it('delivers each message once, whole, with its sender id and pid, in each sender order', () => {
    const m = mailbox({ capacity: 256 });
    const a = connect(m);
    const b = connect(m);
    for (let i = 0; i < 3; i++) {
      a.send(Buffer.from(`a${i}`));
      b.send(Buffer.from(`b${i}`));
    }
    const got: string[] = [];
    for (let message = m.tryReceive(); message !== null; message = m.tryReceive()) {
      expect(message.pid).toBe(process.pid);
      got.push(`${message.sender}:${text(message)}`);
    }
    expect(got).toEqual(['1:a0', '2:b0', '1:a1', '2:b1', '1:a2', '2:b2']);
  });

  it('serves the lanes round robin: between two messages of one sender, every other waiting sender gets one', () => {
    const m = mailbox({ capacity: 1024, senders: 3 });
    const [a, b, c] = [connect(m), connect(m), connect(m)];
    for (let i = 0; i < 10; i++) a.send(Buffer.from('a'));
    for (let i = 0; i < 2; i++) b.send(Buffer.from('b'));
    for (let i = 0; i < 5; i++) c.send(Buffer.from('c'));
    const order = Array.from({ length: 17 }, () => text(m.tryReceive())).join('');
    expect(order).toBe('abcabcacacacaaaaa');
  });

  it('a full lane holds back only its own sender', () => {
    const m = mailbox({ capacity: 64 });
    const fast = connect(m);
    const other = connect(m);
    while (fast.trySend(new Uint8Array(8))) {}
    expect(fast.trySend(new Uint8Array(8))).toBe(false);
    expect(other.trySend(Buffer.from('still goes'))).toBe(true);
    const error = catchError(() => fast.send(new Uint8Array(8), { timeoutMs: 20 }));
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/the receiver is alive but not keeping up/);
  });

  it('receive waits for a message up to its timeout (null), a sync send from a timer ends an async wait', async () => {
    const m = mailbox();
    const a = connect(m);
    expect(m.receive({ timeoutMs: 20 })).toBeNull();
    expect(m.tryReceive()).toBeNull();
    setTimeout(() => a.send(Buffer.from('late')), 20);
    const message = await m.receiveAsync({ timeoutMs: 5000 });
    expect(text(message)).toBe('late');
    expect(await m.receiveAsync({ timeoutMs: 20 })).toBeNull();
  });

  it('receiveInto copies into a buffer and reports length and sender; a short target keeps the message', () => {
    const m = mailbox();
    const a = connect(m);
    a.send(Buffer.from('twelve bytes'));
    const small = new Uint8Array(4);
    const error = catchError(() => m.receiveInto(small));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/12 bytes; target has room for 4 \(the message stays in the mailbox\)/);
    const target = new Uint8Array(64);
    expect(m.receiveInto(target)).toEqual({ length: 12, sender: a.sender, pid: process.pid });
    expect(Buffer.from(target.subarray(0, 12)).toString()).toBe('twelve bytes');
  });

  it('receiveIntoAsync waits, then copies', async () => {
    const m = mailbox();
    const a = connect(m);
    const target = new Uint8Array(16);
    const pending = m.receiveIntoAsync(target, { timeoutMs: 5000 });
    a.send(Buffer.from('abc'));
    expect(await pending).toEqual({ length: 3, sender: a.sender, pid: process.pid });
    expect([...target.subarray(0, 3)]).toEqual([97, 98, 99]);
  });

  it('peek gives a view into the lane, release gives its room back to that sender', () => {
    const m = mailbox({ capacity: 64 });
    const a = connect(m);
    a.send(new Uint8Array(48).fill(7));
    expect(a.trySend(new Uint8Array(48))).toBe(false);
    const peeked = m.peek({ timeoutMs: 0 });
    expect(peeked?.sender).toBe(a.sender);
    expect(peeked?.data.length).toBe(48);
    expect(peeked?.data.every((b) => b === 7)).toBe(true);
    expect(catchError(() => m.receive({ timeoutMs: 0 })).code).toBe('ERR_CHANNEL_PEEKED');
    m.release();
    expect(a.trySend(new Uint8Array(48))).toBe(true);
    expect(catchError(() => m.release()).code).toBe('ERR_CHANNEL_NOT_PEEKED');
  });

  it('a zero-length message is a message', () => {
    const m = mailbox();
    connect(m).send(new Uint8Array(0));
    expect(m.tryReceive()?.data.length).toBe(0);
  });

  it('refuses a message larger than a lane with EMSGSIZE, nothing written', () => {
    const m = mailbox({ capacity: 64 });
    const a = connect(m);
    const error = catchError(() => a.send(new Uint8Array(57)));
    expect(error.code).toBe('EMSGSIZE');
    expect(error.message).toMatch(/^EMSGSIZE: MailboxSender\.send: a message of 57 bytes does not fit this mailbox/);
    expect(m.tryReceive()).toBeNull();
  });

  it('names its own calls in errors', () => {
    const m = mailbox();
    const a = connect(m);
    a.close();
    expect(catchError(() => a.send(new Uint8Array(1))).message).toMatch(/^ERR_CHANNEL_CLOSED: MailboxSender\.send: this sender end of mailbox \d+ is closed/);
    expect(catchError(() => m.receiveInto('x' as never)).message).toMatch(/^Mailbox\.receiveInto: target must be a Uint8Array/);
  });
});

describe('senders that leave', () => {
  it('everything a sender published before close() is delivered, then its lane is free', () => {
    const m = mailbox({ senders: 1 });
    const a = connect(m);
    for (let i = 0; i < 5; i++) a.send(Buffer.from(String(i)));
    a.close();
    expect(m.senders).toEqual([{ sender: a.sender, pid: process.pid }]);
    expect(Array.from({ length: 5 }, () => text(m.tryReceive()))).toEqual(['0', '1', '2', '3', '4']);
    expect(m.tryReceive()).toBeNull();
    expect(m.senders).toEqual([]);
    expect(connect(m).lane).toBe(0);
  });

  it('an unpublished reserve() of a sender that closes is never delivered', () => {
    const m = mailbox();
    const a = connect(m);
    a.reserve(8).fill(1);
    a.close();
    expect(m.tryReceive()).toBeNull();
    expect(m.senders).toEqual([]);
  });

  it('a receive with no sender at all waits (senders come and go) rather than failing', () => {
    const m = mailbox();
    expect(m.receive({ timeoutMs: 10 })).toBeNull();
    const a = connect(m);
    a.close();
    expect(m.receive({ timeoutMs: 10 })).toBeNull();
  });
});

describe('the receiver closing', () => {
  it('senders get EPIPE, also while they wait for room', async () => {
    const m = Mailbox.create({ capacity: 64 });
    const a = connect(m);
    while (a.trySend(new Uint8Array(8))) {}
    const waiting = a.sendAsync(new Uint8Array(8), { timeoutMs: 10_000 });
    m.close();
    await expect(waiting).rejects.toMatchObject({ code: 'EPIPE' });
    expect(catchError(() => a.send(new Uint8Array(1))).code).toBe('EPIPE');
  });

  it('a pending async receive ends with ERR_CHANNEL_CLOSED, later calls too', async () => {
    const m = Mailbox.create();
    const pending = m.receiveAsync();
    m.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(catchError(() => m.receive()).code).toBe('ERR_CHANNEL_CLOSED');
    expect(m.closed).toBe(true);
    m.close(); // idempotent
  });
});

describe('async iteration and cancellation', () => {
  it('for await yields messages until the receiver is closed, then ends quietly', async () => {
    const m = Mailbox.create();
    const a = connect(m);
    for (let i = 0; i < 3; i++) a.send(Buffer.from(String(i)));
    const got: string[] = [];
    for await (const message of m) {
      got.push(text(message) as string);
      if (got.length === 3) setTimeout(() => m.close(), 10);
    }
    expect(got).toEqual(['0', '1', '2']);
  });

  it('break ends the pending receive without taking a message', async () => {
    const m = mailbox();
    const a = connect(m);
    a.send(Buffer.from('first'));
    for await (const message of m) {
      expect(text(message)).toBe('first');
      break;
    }
    a.send(Buffer.from('second'));
    expect(text(m.tryReceive())).toBe('second');
  });

  it('an AbortSignal ends a pending receive (AbortError), takes nothing, and queued calls keep their order', async () => {
    const m = mailbox();
    const a = connect(m);
    const controller = new AbortController();
    const first = m.receiveAsync({ signal: controller.signal });
    const second = m.receiveAsync({ timeoutMs: 5000 });
    controller.abort(new Error('no longer needed'));
    await expect(first).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    a.send(Buffer.from('for the second'));
    expect(text(await second)).toBe('for the second');
  });

  it('messages({ signal }) throws an AbortError when the signal aborts', async () => {
    const m = mailbox();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    const loop = (async () => {
      for await (const _ of m.messages({ signal: controller.signal })) {
        // nothing arrives
      }
    })();
    await expect(loop).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a synchronous call while an async one is pending is ERR_CHANNEL_BUSY', async () => {
    const m = mailbox();
    const a = connect(m);
    const pending = m.receiveAsync();
    expect(catchError(() => m.tryReceive()).code).toBe('ERR_CHANNEL_BUSY');
    a.send(Buffer.from('x'));
    expect(text(await pending)).toBe('x');
  });

  it('an already-aborted signal rejects before anything happens', async () => {
    const m = mailbox();
    connect(m).send(Buffer.from('kept'));
    await expect(m.receiveAsync({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(text(m.tryReceive())).toBe('kept');
  });
});

describe('inspection', () => {
  it('shows id, senders and capacity', () => {
    const m = mailbox({ senders: 4, capacity: 128 });
    connect(m);
    const { inspect } = require('node:util') as typeof import('node:util');
    expect(inspect(m)).toBe(`Mailbox { id: ${m.id}, senders: 1/4, capacity: 128 }`);
  });
});
