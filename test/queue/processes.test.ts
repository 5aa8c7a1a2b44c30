// MessageQueue across real processes: selection by type both ways, a waiter told of the queue's removal as EIDRM
// (sync and async), a send blocked on a full queue until another process makes room, truncation of another
// process's long message, and peek (MSG_COPY) leaving the messages where they are.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageQueue, ShmError } from '../../lib/index.js';
import { killChildren, recordProgram } from '../support/child.js';
import { catchError } from '../support/errors.js';
import { removeMsgAfterTest } from '../support/sysv-objects.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/queue/${name}.ts`, import.meta.url));

afterEach(killChildren);

function made(options: Parameters<typeof MessageQueue.create>[0] = {}): MessageQueue {
  const queue = MessageQueue.create(options);
  removeMsgAfterTest(queue.id);
  return queue;
}

const text = (message: { data: Uint8Array } | null) => (message === null ? null : new TextDecoder().decode(message.data));

describe('types across processes', () => {
  it('a child sends types 3 1 2 5 4; this process selects with 0, > 0, except and < 0', async () => {
    const queue = made();
    const child = recordProgram(fixture('send'), [queue.id, '3=m3', '1=m1', '2=m2', '5=m5', '4=m4']);
    expect((await child.exit).stdout).toMatch(/^sent 5$/m);
    expect(queue.status()).toMatchObject({ messages: 5, lastSendPid: child.child.pid });
    expect(text(queue.receive({ type: 2 }))).toBe('m2');
    expect(text(queue.receive({ type: -3 }))).toBe('m1'); // the lowest type <= 3
    expect(text(queue.receive({ type: 5, except: true }))).toBe('m3'); // the first not of type 5
    expect(text(queue.receive())).toBe('m5'); // the first of any type
    expect(queue.receive({ type: 1, noWait: true })).toBeNull();
    expect(text(queue.receive({ type: -100 }))).toBe('m4');
  });

  it('this process sends; a child selects with the same rules (and waits for what is not there yet)', async () => {
    const queue = made();
    for (const type of [4, 2, 9]) queue.send(`to child ${type}`, { type });
    const child = recordProgram(fixture('receive'), [queue.id, '-5', '9', '0', '7', '3!']);
    await child.line(/^got 4 to child 4$/m);
    // The child now waits for a type 7 message, then for any type but 3.
    queue.send('three', { type: 3 });
    queue.send('seven', { type: 7 });
    queue.send('eight', { type: 8 });
    const end = await child.exit;
    expect(end.stderr).toBe('');
    expect(end.stdout.trim().split('\n')).toEqual(['got 2 to child 2', 'got 9 to child 9', 'got 4 to child 4', 'got 7 seven', 'got 8 eight']);
    expect(queue.receiveString()).toEqual({ type: 3, data: 'three' });
    expect(queue.status().lastReceivePid).toBe(process.pid);
  });
});

describe('a waiter in another process when the queue is removed', () => {
  it.each(['sync', 'async'] as const)('%s: the receive ends with EIDRM', async (how) => {
    const queue = made();
    const child = recordProgram(fixture('wait-removed'), [queue.id, how]);
    await child.line(/^waiting$/m); // it polls: a removal before or after its first try is EIDRM alike
    queue.remove();
    const end = await child.exit;
    expect(end.stdout).toMatch(/^error EIDRM msgrcv$/m);
    expect(end.stdout).toMatch(/was removed/);
    expect(end.code).toBe(0);
  });
});

describe('a full queue', () => {
  it.each(['sync', 'async'] as const)('%s: a send waits for room, and gets it when another process receives', async (how) => {
    const queue = made({ maxBytes: 1000 });
    const child = recordProgram(fixture('fill-then-send'), [queue.id, how]);
    const full = Number((await child.line(/^full (\d+)$/m))[1]);
    expect(full).toBe(10);
    expect(queue.status()).toMatchObject({ messages: 10, bytes: 1000 });
    expect(child.stdout()).not.toMatch(/sent/);
    expect(queue.receive()!.data.length).toBe(100);
    const end = await child.exit;
    expect(end.stdout).toMatch(/^sent true$/m);
    expect(queue.receiveString({ type: 2 })).toEqual({ type: 2, data: 'the last one' });
  });

  it('a send with a timeout gives up with false, having sent nothing', () => {
    const queue = made({ maxBytes: 100 });
    expect(queue.send(new Uint8Array(100))).toBe(true);
    expect(queue.send('x', { timeoutMs: 30 })).toBe(false);
    expect(queue.status()).toMatchObject({ messages: 1, bytes: 100 });
  });
});

describe("another process's long message", () => {
  it('without truncate: E2BIG, the message stays; with truncate: true it is taken, cut to maxBytes', async () => {
    const queue = made();
    const child = recordProgram(fixture('send'), [queue.id, '6=*300']);
    await child.exit;
    const error = catchError(() => queue.receive({ maxBytes: 64 }));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'E2BIG', syscall: 'msgrcv' });
    expect(queue.status()).toMatchObject({ messages: 1, bytes: 300 });
    const cut = queue.receive({ maxBytes: 64, truncate: true })!;
    expect(cut.type).toBe(6);
    expect(text(cut)).toBe('x'.repeat(64));
    expect(queue.status()).toMatchObject({ messages: 0, bytes: 0 });
  });
});

describe('peek (MSG_COPY)', () => {
  it("copies another process's messages by index and leaves them queued", async (context) => {
    const queue = made();
    const child = recordProgram(fixture('send'), [queue.id, '5=first', '2=second']);
    await child.exit;
    let first: ReturnType<MessageQueue['peek']>;
    try {
      first = queue.peek(0);
    } catch (error) {
      if ((error as ShmError).code === 'ENOSYS') context.skip('this kernel has no MSG_COPY (CONFIG_CHECKPOINT_RESTORE is off)');
      throw error;
    }
    expect(first).toEqual({ type: 5, data: new TextEncoder().encode('first') });
    expect(text(queue.peek(1))).toBe('second');
    expect(queue.peek(2)).toBeNull();
    expect(text(queue.peek(1, { maxBytes: 6 }))).toBe('second');
    expect(catchError(() => queue.peek(1, { maxBytes: 3 }))).toMatchObject({ code: 'E2BIG', operation: 'MessageQueue.peek' });
    expect(() => queue.peek(1, { truncate: true } as never)).toThrow(TypeError);
    expect(queue.status().messages).toBe(2);
    expect(text(queue.receive())).toBe('first');
  });
});
