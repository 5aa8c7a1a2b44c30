// The async calls of MessageQueue: receiveAsync, sendAsync and `for await ... of queue.messages()`, polled with
// IPC_NOWAIT on the main thread (no thread per pending wait), with timeouts, AbortSignal, close and removal. An
// abandoned receive takes no message: the reason the design polls instead of blocking in msgrcv on a thread.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageQueue, type QueueMessage } from '../../lib/index.js';
import { sysvWaitStats } from '../../lib/internal.js';
import { killChildren, recordProgram } from '../support/child.js';
import { removeMsgAfterTest } from '../support/sysv-objects.js';

afterEach(killChildren);

function made(options: Parameters<typeof MessageQueue.create>[0] = {}): MessageQueue {
  const queue = MessageQueue.create(options);
  removeMsgAfterTest(queue.id);
  return queue;
}

const text = (message: { data: Uint8Array } | null) => (message === null ? null : new TextDecoder().decode(message.data));

/** Whether `promise` has settled by the time the event loop has turned once more. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('receiveAsync and sendAsync', () => {
  it('receiveAsync resolves with a message at once, or when one is sent later; null after its timeout', async () => {
    const queue = made();
    queue.send('ready', { type: 4 });
    expect(await queue.receiveAsync()).toEqual({ type: 4, data: new TextEncoder().encode('ready') });
    const later = queue.receiveAsync({ type: 2 });
    expect(await settled(later)).toBe(false);
    queue.send('not this one', { type: 1 });
    setTimeout(() => queue.send('this one', { type: 2 }), 10);
    expect(text(await later)).toBe('this one');
    expect(await queue.receiveAsync({ type: 3, timeoutMs: 20 })).toBeNull();
    expect(await queue.receiveAsync({ type: 3, noWait: true })).toBeNull();
    expect(queue.status().messages).toBe(1);
  });

  it('pending receives of one kind are served in arrival order', async () => {
    const queue = made();
    const receives = [queue.receiveAsync(), queue.receiveAsync(), queue.receiveAsync()];
    for (const word of ['one', 'two', 'three']) queue.send(word);
    expect((await Promise.all(receives)).map(text)).toEqual(['one', 'two', 'three']);
  });

  it('noWait (or timeoutMs 0) behind pending receives of its kind lets them go first, then tries', async () => {
    const queue = made();
    const first = queue.receiveAsync();
    expect(await settled(first)).toBe(false);
    queue.send('one');
    queue.send('two');
    expect(text(await queue.receiveAsync({ noWait: true }))).toBe('two');
    expect(text(await first)).toBe('one');
    // One message for two: the receive ahead gets it, and noWait says null.
    const second = queue.receiveAsync();
    expect(await settled(second)).toBe(false);
    queue.send('three');
    expect(await queue.receiveAsync({ timeoutMs: 0 })).toBeNull();
    expect(text(await second)).toBe('three');
    expect(sysvWaitStats().pending).toBe(0);
  });

  it('a noWait send behind pending sends lets them go first, then tries', async () => {
    const queue = made({ maxBytes: 10 });
    queue.send('0123456789');
    const first = queue.sendAsync('a');
    expect(await settled(first)).toBe(false);
    queue.receive(); // room for both
    expect(await queue.sendAsync('b', { noWait: true })).toBe(true);
    expect(await first).toBe(true);
    expect([queue.receiveString({ noWait: true })?.data, queue.receiveString({ noWait: true })?.data]).toEqual(['a', 'b']);
    expect(sysvWaitStats().pending).toBe(0);
  });

  it('sendAsync waits for room; pending sends reach the queue in the order of the calls', async () => {
    const queue = made({ maxBytes: 30 });
    expect(await queue.sendAsync('0123456789'.repeat(3))).toBe(true);
    const sends = ['a', 'b', 'c'].map((word) => queue.sendAsync(word));
    expect(await settled(sends[0])).toBe(false);
    expect(await queue.sendAsync('d', { timeoutMs: 20 })).toBe(false);
    expect(await queue.sendAsync('e', { noWait: true })).toBe(false);
    queue.receive();
    expect(await Promise.all(sends)).toEqual([true, true, true]);
    expect([1, 2, 3].map(() => queue.receiveString({ noWait: true })!.data)).toEqual(['a', 'b', 'c']);
  });

  it('a message that can never fit is EMSGSIZE; a long one without truncate is E2BIG and stays', async () => {
    const queue = made({ maxBytes: 50 });
    await expect(queue.sendAsync(new Uint8Array(51))).rejects.toMatchObject({ code: 'EMSGSIZE' });
    queue.send('x'.repeat(40));
    await expect(queue.receiveAsync({ maxBytes: 8 })).rejects.toMatchObject({ code: 'E2BIG', operation: 'MessageQueue.receiveAsync' });
    expect(queue.status().messages).toBe(1);
    expect(text(await queue.receiveAsync({ maxBytes: 8, truncate: true }))).toBe('xxxxxxxx');
  });

  it('misuse rejects with TypeError / RangeError before anything happens', async () => {
    const queue = made();
    await expect(queue.sendAsync(5 as never)).rejects.toThrow(TypeError);
    await expect(queue.sendAsync('x', { type: 0 })).rejects.toThrow(RangeError);
    await expect(queue.receiveAsync({ signal: 'stop' as never })).rejects.toThrow(TypeError);
    await expect(queue.receiveAsync({ except: true })).rejects.toThrow(RangeError);
    expect(() => queue.messages({ timeoutMs: 5 } as never)).toThrow(TypeError);
    expect(queue.status().messages).toBe(0);
  });
});

describe('cancellation, close and removal', () => {
  it('an aborted receive takes no message: the message sent afterwards is still there', async () => {
    const queue = made();
    const controller = new AbortController();
    const pending = queue.receiveAsync({ signal: controller.signal });
    expect(await settled(pending)).toBe(false);
    controller.abort(new Error('enough'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: new Error('enough') });
    queue.send('kept');
    await new Promise((resolve) => setTimeout(resolve, 20)); // ticks of the poller would have taken it
    expect(queue.status().messages).toBe(1);
    expect(sysvWaitStats().pending).toBe(0);
  });

  it('an already aborted signal rejects at once, even with a message waiting, and sends nothing', async () => {
    const queue = made();
    queue.send('waiting');
    const signal = AbortSignal.abort('no');
    await expect(queue.receiveAsync({ signal })).rejects.toMatchObject({ name: 'AbortError', cause: 'no' });
    await expect(queue.sendAsync('x', { signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(queue.status().messages).toBe(1);
  });

  it('close() rejects the pending calls of that object with ERR_QUEUE_CLOSED', async () => {
    const queue = made();
    const other = MessageQueue.open({ id: queue.id });
    const mine = queue.receiveAsync();
    const theirs = other.receiveAsync();
    queue.close();
    await expect(mine).rejects.toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
    other.send('for the other object');
    expect(text(await theirs)).toBe('for the other object');
  });

  it('removing the queue rejects pending receives and sends with EIDRM', async () => {
    const queue = MessageQueue.create({ maxBytes: 10 });
    queue.send('0123456789');
    const receive = queue.receiveAsync({ type: 2 });
    const send = queue.sendAsync('more');
    expect(await settled(receive)).toBe(false);
    queue.remove();
    await expect(receive).rejects.toMatchObject({ code: 'EIDRM', syscall: 'msgrcv' });
    await expect(send).rejects.toMatchObject({ code: 'EIDRM', syscall: 'msgsnd' });
  });

  it('200 pending receives of one kind cost one msgrcv try per tick', async () => {
    const queue = made();
    const receives = Array.from({ length: 200 }, () => queue.receiveAsync({ type: 9 }));
    const before = sysvWaitStats();
    const target = before.ticks + 4;
    while (sysvWaitStats().ticks < target) await new Promise((resolve) => setTimeout(resolve, 2));
    const after = sysvWaitStats();
    expect(after.attempts - before.attempts).toBe(after.ticks - before.ticks);
    for (let i = 0; i < 200; i++) queue.send(String(i), { type: 9 });
    expect((await Promise.all(receives)).map(text)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });
});

describe('for await ... of queue.messages()', () => {
  it("yields another process's messages as they come, of the type asked for; the signal ends it with an AbortError", async () => {
    const queue = made();
    const controller = new AbortController();
    const child = recordProgram(fileURLToPath(new URL('../fixtures/queue/send.ts', import.meta.url)), [queue.id, '1=a', '2=skip', '1=b', '1=c']);
    const got: QueueMessage[] = [];
    const loop = (async () => {
      for await (const message of queue.messages({ type: 1, signal: controller.signal })) {
        got.push(message);
        if (got.length === 3) controller.abort('done');
      }
    })();
    await expect(loop).rejects.toMatchObject({ name: 'AbortError', cause: 'done' });
    expect(got.map(text)).toEqual(['a', 'b', 'c']);
    expect((await child.exit).code).toBe(0);
    expect(queue.receiveString()).toEqual({ type: 2, data: 'skip' });
  });

  it('break ends the pending receive without taking a message', async () => {
    const queue = made();
    queue.send('first');
    const iterator = queue.messages();
    for await (const message of iterator) {
      expect(text(message)).toBe('first');
      break;
    }
    const next = queue.messages();
    const pending = next.next();
    expect(await settled(pending)).toBe(false);
    await next.return!();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    queue.send('second');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(queue.receiveString({ noWait: true })).toEqual({ type: 1, data: 'second' });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('a removed queue ends the iteration with EIDRM', async () => {
    const queue = MessageQueue.create();
    const iterator = queue.messages();
    const pending = iterator.next();
    queue.remove();
    await expect(pending).rejects.toMatchObject({ code: 'EIDRM' });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
