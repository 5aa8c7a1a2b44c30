// The mailbox between real processes (docs/design/many-processes.md, "Mailbox"): many sender processes into one
// receiver, with checksums; senders killed with SIGKILL at any instant (even halfway through a message); round
// robin between backlogged senders; the sender limit; the receiver closing or killed; another user. Senders are
// child programs (test/fixtures/sync/mailbox-*.ts); the receiver is this process unless said otherwise.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Mailbox, shmat, shmdt, type MailboxMessage, type MailboxSender } from '../../lib/index.js';
import { childResults, procRow } from '../support/segments.js';
import { killChildren, recordProgram, runProgram, type RecordedChild } from '../support/child.js';
import { catchError } from '../support/errors.js';
import { Progress, Tally } from '../fixtures/sync/mailbox-messages.js';
import { LANE_PID, laneOffset } from '../fixtures/sync/mailbox-layout.js';
import type { Outcome } from '../fixtures/sync/hostile.js';
import type { Outcome as NobodyOutcome } from '../fixtures/system/nobody.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

/** Every call that waits in these tests has this timeout: far beyond the liveness interval, never reached when all is well. */
const WAIT = { timeoutMs: 20_000 };
/** How long "within the liveness interval" may take on a loaded 2-core machine (the interval is 50 ms to ~1 s). */
const LIVENESS_BOUND_MS = 10_000;

const ends: Array<Mailbox | MailboxSender> = [];
let progress: Progress;

beforeAll(() => {
  progress = Progress.create();
});
afterAll(() => progress.close());

afterEach(async () => {
  await killChildren();
  for (const end of ends.splice(0)) end.close();
});

function track<T extends Mailbox | MailboxSender>(end: T): T {
  ends.push(end);
  return end;
}

let nextIndex = 0;

interface SenderChild extends RecordedChild {
  index: number;
  /** Its sender id and lane, once connected. */
  connected: () => Promise<{ sender: number; lane: number }>;
}

/** Starts test/fixtures/sync/mailbox-sender.ts with a fresh sender index (its progress slot). */
function sender(id: number, count: number, mode: string, then: 'close' | 'exit' | 'hold', maxSize = 0): SenderChild {
  const index = nextIndex++;
  progress.set(index, 0);
  const child = recordProgram(program('mailbox-sender'), [id, index, count, mode, then, progress.id, WAIT.timeoutMs, maxSize]);
  const connected = async () => {
    const [, sender, lane] = await child.line(/^connected (\d+) (\d+)$/m);
    return { sender: Number(sender), lane: Number(lane) };
  };
  return Object.assign(child, { index, connected });
}

/** Receives until `done()` (checked after each message), every message checked by `tally`. */
function receiveUntil(tally: Tally, done: () => boolean, how: (i: number) => MailboxMessage | null): void {
  for (let i = 0; !done(); i++) {
    const message = how(i);
    if (message === null) throw new Error(`no message for ${WAIT.timeoutMs} ms after ${tally.total}`);
    tally.add(message.data, message.sender, message.pid);
  }
}

/** Sync receive, cycling through receive, receiveInto and peek + release. */
function receiveSomehow(mailbox: Mailbox, scratch: Uint8Array): (i: number) => MailboxMessage | null {
  return (i) => {
    switch (i % 3) {
      case 0:
        return mailbox.receive(WAIT);
      case 1: {
        const receipt = mailbox.receiveInto(scratch, WAIT);
        return receipt && { data: scratch.subarray(0, receipt.length), sender: receipt.sender, pid: receipt.pid };
      }
      default: {
        const peeked = mailbox.peek(WAIT);
        if (peeked === null) return null;
        const copy = { ...peeked, data: peeked.data.slice() };
        mailbox.release();
        return copy;
      }
    }
  };
}

/** Counts every message in `tally` as it arrives (for await over the mailbox); the function returned stops that. */
function receiveInBackground(mailbox: Mailbox, tally: Tally): () => Promise<void> {
  const stop = new AbortController();
  const receiving = (async () => {
    try {
      for await (const message of mailbox.messages({ signal: stop.signal })) tally.add(message.data, message.sender, message.pid);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
  })();
  return async () => {
    stop.abort();
    await receiving;
  };
}

/** Receives (synchronously, with a timeout each) until `until()` holds; liveness checks run while it waits. */
function pump(mailbox: Mailbox, tally: Tally, until: () => boolean, limitMs = LIVENESS_BOUND_MS): number {
  const t0 = performance.now();
  while (!until()) {
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms`);
    const message = mailbox.receive({ timeoutMs: 20 });
    if (message !== null) tally.add(message.data, message.sender, message.pid);
  }
  return performance.now() - t0;
}

async function expectExit(child: RecordedChild, code = 0): Promise<string> {
  const exit = await child.exit;
  expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code, signal: null, stderr: '' });
  return exit.stdout;
}

/** Lane 0's claim word (docs/design/many-processes.md). */
const LANE_0_PID = laneOffset(0) + LANE_PID;

const SENDERS = 4;
const PER_SENDER = 25_000;
const MODES = ['send', 'reserve', 'sendAsync', 'trySend'];

describe('10^5 messages from 4 sender processes', () => {
  it.each([
    ['synchronously (receive, receiveInto, peek + release in turn)', 'sync'],
    ['with for await (receiveAsync)', 'async'],
  ])(
    `${SENDERS} × ${PER_SENDER} messages of 12 B up to the whole lane (wrapping it) arrive whole, once, in each sender's order, with its sender id and pid: %s`,
    async (_name, how) => {
      const mailbox = track(Mailbox.create({ capacity: 4096, senders: SENDERS, spin: 2000 }));
      const children = MODES.map((mode) => sender(mailbox.id, PER_SENDER, mode, 'close'));
      const tally = new Tally(mailbox.maxMessageSize);
      const total = SENDERS * PER_SENDER;
      if (how === 'sync') {
        receiveUntil(tally, () => tally.total === total, receiveSomehow(mailbox, new Uint8Array(mailbox.maxMessageSize)));
      } else {
        for await (const message of mailbox) {
          tally.add(message.data, message.sender, message.pid);
          if (tally.total === total) break;
        }
      }
      for (const child of children) {
        expect(await expectExit(child)).toMatch(new RegExp(`^sent ${PER_SENDER}$`, 'm'));
        const { sender: id } = await child.connected();
        expect(tally.count(child.index)).toBe(PER_SENDER);
        expect(tally.from.get(child.index)).toEqual({ sender: id, pid: child.child.pid });
      }
      expect(new Set(children.map((c) => tally.from.get(c.index)!.sender)).size).toBe(SENDERS);
      // All four closed: their lanes are freed once drained, and nothing more arrives.
      expect(mailbox.tryReceive()).toBeNull();
      expect(mailbox.senders).toEqual([]);
      mailbox.close();
      expect(procRow(mailbox.id)).toBeUndefined();
    },
    120_000,
  );
});

describe('a sender killed with SIGKILL', () => {
  it('halfway through writing a message (reserve()d, half written): the receiver gets everything it published and never the half message; its lane is reclaimed and a new sender connects into it (senders: 2, both were taken)', async () => {
    const mailbox = track(Mailbox.create({ capacity: 4096, senders: 2 }));
    const tally = new Tally(200); // both send messages of 12..200 bytes
    const half = Object.assign(recordProgram(program('mailbox-half-written'), [mailbox.id, 900, 10, 3000, 200]), { index: 900 });
    await half.line(/^reserved$/m);
    const other = sender(mailbox.id, 5, 'send', 'hold', 200);
    await other.line(/^sent 5$/m);
    const halfLane = Number((await half.line(/^connected \d+ (\d+)$/m))[1]);
    expect(catchError(() => Mailbox.connect(mailbox.id)).code).toBe('EAGAIN');

    half.child.kill('SIGKILL');
    expect((await half.exit).signal).toBe('SIGKILL');
    // Receiving (and waiting) runs the liveness checks: the dead sender's 10 messages come, its lane is freed.
    const ms = pump(mailbox, tally, () => tally.total === 15 && mailbox.senders.length === 1);
    expect(ms).toBeLessThan(LIVENESS_BOUND_MS);
    expect(tally.count(900)).toBe(10);
    expect(tally.count(other.index)).toBe(5);
    expect(tally.from.get(900)!.pid).toBe(half.child.pid);
    expect(mailbox.senders).toEqual([{ sender: (await other.connected()).sender, pid: other.child.pid }]);
    expect(mailbox.receive({ timeoutMs: 200 })).toBeNull(); // the half-written message never comes

    const newcomer = track(Mailbox.connect(mailbox.id));
    expect(newcomer.lane).toBe(halfLane);
    expect(newcomer.sender).toBe(3); // ids are never reused
    newcomer.send(new Uint8Array([7, 7, 7]));
    expect(mailbox.receive(WAIT)).toEqual({ data: new Uint8Array([7, 7, 7]), sender: 3, pid: process.pid });
    other.child.stdin!.write('close\n');
    expect(await expectExit(other)).toMatch(/^closed$/m);
  });

  it('killed while connecting (lane claimed, not ready yet): the claim is given back at the receiver’s next liveness check', () => {
    const mailbox = track(Mailbox.create({ capacity: 1024, senders: 1 }));
    // What a connect() killed between its claim and READY leaves behind: lane 0's PID word set, nothing else.
    const deadPid = spawnSync('true').pid!;
    const attachment = shmat(mailbox.id);
    new Int32Array(attachment.buffer)[LANE_0_PID / 4] = deadPid;
    shmdt(attachment);
    expect(catchError(() => Mailbox.connect(mailbox.id)).code).toBe('EAGAIN');
    expect(mailbox.receive({ timeoutMs: 300 })).toBeNull(); // waits: its liveness check frees the claim
    const s = track(Mailbox.connect(mailbox.id));
    expect(s.lane).toBe(0);
  });

  it('senders killed at random moments while sending in a loop: the others and the receiver go on, each killed sender’s published messages all arrive (no torn one), and every lane is reclaimed within the liveness interval', async () => {
    const mailbox = track(Mailbox.create({ capacity: 2048, senders: 5 }));
    const tally = new Tally(mailbox.maxMessageSize);
    const victims = MODES.map((mode) => sender(mailbox.id, -1, mode, 'hold'));
    const survivor = sender(mailbox.id, 3000, 'send', 'close');
    const stopReceiving = receiveInBackground(mailbox, tally);
    const delays = victims.map(() => 50 + Math.floor(Math.random() * 600));
    await Promise.all(
      victims.map(async (victim, i) => {
        await victim.connected();
        await new Promise((resolve) => setTimeout(resolve, delays[i]));
        victim.child.kill('SIGKILL');
        expect((await victim.exit).signal).toBe('SIGKILL');
      }),
    );
    expect(await expectExit(survivor)).toMatch(/^sent 3000$/m);
    const t0 = performance.now();
    while (mailbox.senders.length > 0 || tally.count(survivor.index) < 3000) {
      if (performance.now() - t0 > LIVENESS_BOUND_MS) throw new Error(`lanes not reclaimed: ${JSON.stringify(mailbox.senders)}, delays ${delays}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await stopReceiving();
    for (const victim of victims) {
      // Sent = what its send() calls returned; one more may have been published just before the kill.
      const sent = progress.get(victim.index);
      expect([sent, sent + 1], `victim ${victim.index} (killed after ${delays[victims.indexOf(victim)]} ms)`).toContain(tally.count(victim.index));
      expect(sent).toBeGreaterThan(0);
    }
    expect(tally.count(survivor.index)).toBe(3000);
    // Every lane is free again: five new senders fit.
    for (let i = 0; i < 5; i++) track(Mailbox.connect(mailbox.id));
    expect(catchError(() => Mailbox.connect(mailbox.id)).code).toBe('EAGAIN');
  });

  it('while other senders keep the receiver busy (it never waits): a killed sender’s lane is still reclaimed within the liveness interval', async () => {
    const mailbox = track(Mailbox.create({ capacity: 4096, senders: 2 }));
    const tally = new Tally(64);
    const busy = sender(mailbox.id, -1, 'send', 'hold', 64);
    const victim = sender(mailbox.id, 20, 'send', 'hold', 64);
    await victim.line(/^sent 20$/m);
    await busy.connected();
    victim.child.kill('SIGKILL');
    await victim.exit;
    // The receiver takes messages as fast as it can; the busy sender keeps its lane from ever being empty for long.
    const t0 = performance.now();
    let connected: MailboxSender | undefined;
    while (connected === undefined && performance.now() - t0 < LIVENESS_BOUND_MS) {
      for (let i = 0; i < 200; i++) {
        const message = mailbox.receive(WAIT);
        tally.add(message!.data, message!.sender, message!.pid);
      }
      try {
        connected = track(Mailbox.connect(mailbox.id));
      } catch (error) {
        if ((error as { code?: string }).code !== 'EAGAIN') throw error;
      }
    }
    expect(tally.count(victim.index)).toBe(20);
    expect(connected, `the dead sender's lane was not reclaimed in ${LIVENESS_BOUND_MS} ms of busy receiving`).toBeDefined();
  });
});

describe('fairness', () => {
  it('round robin by message: between two messages of one sender, every other sender with messages waiting gets exactly one', async () => {
    const mailbox = track(Mailbox.create({ capacity: 4096, senders: 4 }));
    // Each fills its lane with small messages (12..64 bytes: 60 or more each) and stops: the backlog is known.
    const children = [0, 1, 2, 3].map(() => recordFill(mailbox.id));
    const backlog = new Map<number, number>();
    for (const child of children) backlog.set(child.index, Number((await child.line(/^sent (\d+)$/m))[1]));
    const total = [...backlog.values()].reduce((a, b) => a + b, 0);
    expect(Math.min(...backlog.values())).toBeGreaterThan(50);
    const tally = new Tally(64);
    tally.keepOrder = true;
    receiveUntil(
      tally,
      () => tally.total === total,
      () => mailbox.receive(WAIT),
    );
    const order = tally.order;
    const delivered = new Map<number, number>();
    const lastAt = new Map<number, number>();
    const countsAt: Array<Map<number, number>> = [];
    order.forEach((index, p) => {
      countsAt.push(new Map(delivered));
      const q = lastAt.get(index);
      if (q !== undefined) {
        // Every other sender that still had messages waiting at q got exactly one between q and p.
        for (const [other, n] of backlog) {
          if (other === index) continue;
          const before = countsAt[q].get(other) ?? 0;
          const got = order.slice(q + 1, p).filter((x) => x === other).length;
          expect(got, `position ${p}: sender ${other} got ${got} between two messages of ${index}`).toBe(before < n ? 1 : 0);
        }
      }
      lastAt.set(index, p);
      delivered.set(index, (delivered.get(index) ?? 0) + 1);
    });
    expect(new Set(order.slice(0, 4)).size).toBe(4);
    for (const child of children) child.child.stdin!.write('close\n');
    for (const child of children) await expectExit(child);
  });

  it('no sender starves: one that joins while three others flood their lanes gets all its messages through', async () => {
    const mailbox = track(Mailbox.create({ capacity: 4096, senders: 4 }));
    const flooders = [0, 1, 2].map(() => sender(mailbox.id, -1, 'send', 'hold'));
    const tally = new Tally(mailbox.maxMessageSize);
    for (const flooder of flooders) await flooder.connected();
    const late = sender(mailbox.id, 2000, 'send', 'close');
    const stopReceiving = receiveInBackground(mailbox, tally);
    expect(await expectExit(late)).toMatch(/^sent 2000$/m);
    const t0 = performance.now();
    while (tally.count(late.index) < 2000 && performance.now() - t0 < LIVENESS_BOUND_MS) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(tally.count(late.index)).toBe(2000);
    for (const flooder of flooders) expect(tally.count(flooder.index)).toBeGreaterThan(0);
    await stopReceiving();
  });
});

/** A sender that fills its lane with messages of 12..64 bytes, prints "sent <n>", and holds. */
function recordFill(id: number): SenderChild {
  const index = nextIndex++;
  const child = recordProgram(program('mailbox-sender'), [id, index, -1, 'fill', 'hold', -1, WAIT.timeoutMs, 64]);
  return Object.assign(child, { index, connected: async () => ({ sender: 0, lane: 0 }) });
}

describe('the sender limit', () => {
  it('connecting beyond `senders` is EAGAIN saying what to do; a lane whose sender closed is free again once the receiver has drained it', async () => {
    const mailbox = track(Mailbox.create({ capacity: 1024, senders: 2 }));
    const tally = new Tally(mailbox.maxMessageSize);
    const a = sender(mailbox.id, 3, 'send', 'hold');
    const b = sender(mailbox.id, 0, 'send', 'hold');
    await a.line(/^sent 3$/m);
    await b.line(/^sent 0$/m);
    const { lane } = await a.connected();
    const refused = catchError(() => Mailbox.connect(mailbox.id));
    expect(refused).toMatchObject({ code: 'EAGAIN', operation: 'Mailbox.connect' });
    expect(refused.message).toMatch(
      new RegExp(
        `all 2 sender lanes of mailbox ${mailbox.id} are taken \\(it was created with senders: 2\\).*try again later, or create the mailbox with more senders`,
      ),
    );
    a.child.stdin!.write('close\n');
    expect(await expectExit(a)).toMatch(/^closed$/m);
    // Closed, but 3 messages are still in its lane: the lane is not free until they are received.
    expect(catchError(() => Mailbox.connect(mailbox.id)).code).toBe('EAGAIN');
    for (let i = 0; i < 2; i++) tally.add(mailbox.receive(WAIT)!.data, 0, 0);
    expect(catchError(() => Mailbox.connect(mailbox.id)).code).toBe('EAGAIN');
    tally.add(mailbox.receive(WAIT)!.data, 0, 0);
    expect(mailbox.tryReceive()).toBeNull(); // the look that finds the closed lane empty frees it
    const next = track(Mailbox.connect(mailbox.id));
    expect(next.lane).toBe(lane);
    expect(next.sender).toBe(3);
    expect(tally.count(a.index)).toBe(3);
    b.child.stdin!.write('close\n');
    await expectExit(b);
  });
});

describe('the receiver gone', () => {
  it.each(['send', 'sendAsync', 'reserve'])('receiver closes: a sender waiting for room in %s gets EPIPE, and every later send at once', async (mode) => {
    const mailbox = track(Mailbox.create({ capacity: 1024, senders: 1 }));
    const child = recordProgram(program('mailbox-fill-then-wait'), [mailbox.id, mode]);
    await child.line(/^full$/m);
    await new Promise((resolve) => setTimeout(resolve, 300)); // it is waiting for room by now
    mailbox.close();
    const result = JSON.parse((await child.line(/^result (\{.*\})$/m))[1]) as Outcome;
    expect(result).toMatchObject({ code: 'EPIPE', name: 'ShmError', operation: `MailboxSender.${mode}` });
    expect(result.message).toMatch(/the receiver closed the mailbox/);
    expect(result.ms).toBeGreaterThan(200);
    expect(result.ms).toBeLessThan(LIVENESS_BOUND_MS);
    const out = await expectExit(child);
    expect(out).toMatch(/^again EPIPE$/m);
    expect(out).toMatch(/^close ok$/m);
    expect(procRow(mailbox.id)).toBeUndefined();
  });

  it.each(['send', 'sendAsync'])('receiver SIGKILLed: a sender waiting for room in %s gets EPIPE within the liveness interval', async (mode) => {
    const receiver = recordProgram(program('mailbox-idle-receiver'), [1024, 2]);
    const id = Number((await receiver.line(/^id (\d+)$/m))[1]);
    const child = recordProgram(program('mailbox-fill-then-wait'), [id, mode]);
    await child.line(/^full$/m);
    await new Promise((resolve) => setTimeout(resolve, 300));
    receiver.child.kill('SIGKILL');
    const result = JSON.parse((await child.line(/^result (\{.*\})$/m))[1]) as Outcome;
    expect(result).toMatchObject({ code: 'EPIPE', operation: `MailboxSender.${mode}` });
    expect(result.message).toMatch(/the receiver \(pid \d+\) exited without closing the mailbox/);
    expect(result.ms).toBeLessThan(300 + LIVENESS_BOUND_MS);
    await expectExit(child);
    expect(procRow(id)).toBeUndefined();
  });

  it('connect after the receiver closed: EPIPE while a sender keeps the segment; EINVAL or EIDRM once the segment is gone', () => {
    const mailbox = Mailbox.create({ capacity: 1024, senders: 2 });
    const s = Mailbox.connect(mailbox.id);
    mailbox.close();
    const refused = catchError(() => Mailbox.connect(mailbox.id));
    expect(refused).toMatchObject({ code: 'EPIPE', operation: 'Mailbox.connect' });
    expect(refused.message).toMatch(/the receiver has already closed this mailbox/);
    expect(catchError(() => s.send(new Uint8Array(1))).code).toBe('EPIPE');
    s.close();
    expect(procRow(mailbox.id)).toBeUndefined();
    const gone = catchError(() => Mailbox.connect(mailbox.id));
    expect(['EINVAL', 'EIDRM']).toContain(gone.code);
    expect(gone.message).toMatch(/connect while its receiver is alive/);
  });

  it('connect after the receiver was SIGKILLed (a sender keeps the segment): EPIPE naming the dead receiver', async () => {
    const receiver = recordProgram(program('mailbox-idle-receiver'), [1024, 2]);
    const id = Number((await receiver.line(/^id (\d+)$/m))[1]);
    const s = Mailbox.connect(id);
    try {
      receiver.child.kill('SIGKILL');
      await receiver.exit;
      const refused = catchError(() => Mailbox.connect(id));
      expect(refused).toMatchObject({ code: 'EPIPE', operation: 'Mailbox.connect' });
      expect(refused.message).toMatch(/the receiver \(pid \d+\) exited without closing the mailbox/);
      // Once the lane is full, waiting for room finds the receiver dead: EPIPE, not the timeout.
      const t0 = performance.now();
      expect(
        catchError(() => {
          for (;;) s.send(new Uint8Array(100), WAIT);
        }).code,
      ).toBe('EPIPE');
      expect(performance.now() - t0).toBeLessThan(LIVENESS_BOUND_MS);
    } finally {
      s.close();
    }
    expect(procRow(id)).toBeUndefined();
  });
});

describe('another user', () => {
  it('a mailbox created with mode 0o600 cannot be connected by another uid (EACCES); with 0o666 it can, and its message arrives', () => {
    const closed = track(Mailbox.create({ capacity: 1024, senders: 2, mode: 0o600 }));
    const denied = childResults<Record<string, NobodyOutcome>>(runProgram(program('mailbox-connect-as-nobody'), [closed.id]));
    expect(denied.whoami).toEqual({ ok: [65534, 65534, [65534]] });
    expect(denied.connect).toMatchObject({ code: 'EACCES', isShmError: true });
    expect(closed.senders).toEqual([]);

    const open = track(Mailbox.create({ capacity: 1024, senders: 2, mode: 0o666 }));
    const allowed = childResults<Record<string, NobodyOutcome>>(runProgram(program('mailbox-connect-as-nobody'), [open.id]));
    expect(allowed.connect).toEqual({ ok: 'sent' });
    const message = open.receive(WAIT)!;
    expect(message.data).toEqual(Uint8Array.from({ length: 12 }, (_, k) => k + 1));
    expect(message.pid).not.toBe(process.pid);
  });
});
