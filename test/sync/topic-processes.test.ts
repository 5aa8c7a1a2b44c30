// The Topic across real processes: 10^5 checksummed messages to three subscriber processes under each policy, a
// subscriber killed with SIGKILL while the publisher waits for it, and a publisher killed with messages unread.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Topic, type Publisher, type Subscriber } from '../../lib/index.js';
import { killChildren, recordProgram, type RecordedChild } from '../support/child.js';
import { procRow } from '../support/segments.js';
import { checkMessage, makeMessage, type SubscriberReport } from '../fixtures/sync/topic-messages.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

const ends: Array<Publisher | Subscriber> = [];
afterEach(async () => {
  await killChildren();
  for (const end of ends.splice(0)) end.close();
});

function reportOf(child: RecordedChild): Promise<SubscriberReport> {
  return child.line(/report (\{.*\})/, 120_000).then((match) => JSON.parse(match[1]) as SubscriberReport);
}

describe.each([
  ['block', 1 << 16, 0],
  ['drop', 1 << 14, 50],
] as const)('10^5 messages to 3 subscriber processes (%s)', (policy, capacity, delayEvery) => {
  it('each receives them whole and in order; lost + received = published', async () => {
    const count = 100_000;
    const publisher = Topic.create({ policy, capacity });
    ends.push(publisher);
    // The third subscriber pauses 1 ms every 50 messages under 'drop': it falls behind and loses some.
    const children = [0, 0, delayEvery].map((delay) => recordProgram(program('topic-subscriber'), [publisher.id, policy, 120, delay]));
    await Promise.all(children.map((c) => c.line(/subscribed/)));
    const scratch = new Uint8Array(200);
    for (let i = 0; i < count; i++) {
      const message = makeMessage(i, 120, scratch);
      if (!publisher.tryPublish(message)) await publisher.publishAsync(message, { timeoutMs: 20_000 });
    }
    publisher.close();
    const reports = await Promise.all(children.map(reportOf));
    for (const report of reports) {
      expect(report.bad).toEqual([]);
      expect(report.end, report.detail).toBe('EPIPE');
      expect(report.lost + report.received).toBe(count);
      expect(report.last).toBe(count - 1);
      if (policy === 'block') expect([report.received, report.lost, report.first]).toEqual([count, 0, 0]);
    }
    if (policy === 'drop') expect(reports[2].lost).toBeGreaterThan(0);
    await Promise.all(children.map((c) => c.exit));
    expect(procRow(publisher.id)).toBeUndefined();
  }, 180_000);
});

describe('liveness', () => {
  it.each(['sync', 'async'] as const)(
    "'block': a subscriber killed with SIGKILL holds the publisher back no longer than the liveness interval (%s)",
    async (how) => {
      const publisher = Topic.create({ capacity: 1024 });
      ends.push(publisher);
      const stalled = recordProgram(program('topic-stall'), [publisher.id, 0]);
      await stalled.line(/subscribed/);
      const reader = Topic.subscribe(publisher.id);
      ends.push(reader);
      let sent = 0;
      while (publisher.tryPublish(makeMessage(sent, 40))) sent++;
      expect(publisher.subscribers).toBe(2);
      stalled.child.kill('SIGKILL');
      await stalled.exit;
      const started = performance.now();
      // The ring is full of what the dead subscriber never read: the publisher frees its slot at its first liveness check.
      const message = makeMessage(sent, 40);
      if (how === 'sync') {
        // The reader takes nothing yet either: the dead one alone must not hold the publisher once the reader has read.
        for (let i = 0; i < sent; i++) expect(checkMessage(reader.receive({ timeoutMs: 0 })!, 40)).toBe(i);
        publisher.publish(message, { timeoutMs: 10_000 });
      } else {
        const pending = publisher.publishAsync(message, { timeoutMs: 10_000 });
        for (let i = 0; i < sent; i++) expect(checkMessage(reader.receive({ timeoutMs: 0 })!, 40)).toBe(i);
        await pending;
      }
      // One 50 ms slice (sync), or the doorbell's first watch (async), plus scheduling: far below the timeout.
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(publisher.subscribers).toBe(1);
      expect(checkMessage(reader.receive({ timeoutMs: 0 })!, 40)).toBe(sent);
    },
  );

  it.each(['block', 'drop'] as const)('a publisher killed with SIGKILL: subscribers drain what it published, then EPIPE (%s)', async (policy) => {
    const count = 300;
    const child = recordProgram(program('topic-publisher'), [policy, 1 << 16, count]);
    const id = Number((await child.line(/id (\d+)/))[1]);
    const subscriber = Topic.subscribe(id);
    ends.push(subscriber);
    expect(subscriber.peerPid).toBe(child.child.pid);
    child.child.stdin!.write('go\n');
    await child.line(/published/);
    child.child.kill('SIGKILL');
    await child.exit;
    for (let i = 0; i < count; i++) expect(checkMessage(subscriber.receive({ timeoutMs: 5000 })!)).toBe(i);
    const started = performance.now();
    expect(() => subscriber.receive({ timeoutMs: 10_000 })).toThrow(
      expect.objectContaining({ code: 'EPIPE', message: expect.stringMatching(/exited without closing/) }),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    // for await throws on a death (ends quietly on a close).
    await expect(
      (async () => {
        for await (const _ of subscriber) throw new Error('no message expected');
      })(),
    ).rejects.toMatchObject({ code: 'EPIPE' });
    subscriber.close();
    expect(procRow(id)).toBeUndefined();
  });

  it("a subscriber process that left with close() and one that was killed free their slots for new subscribers ('drop')", async () => {
    const publisher = Topic.create({ policy: 'drop', subscribers: 2, capacity: 4096 });
    ends.push(publisher);
    const leaving = recordProgram(program('topic-subscriber'), [publisher.id, 'drop']);
    const killed = recordProgram(program('topic-stall'), [publisher.id, 0]);
    await Promise.all([leaving.line(/subscribed/), killed.line(/subscribed/)]);
    expect(() => Topic.subscribe(publisher.id)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
    for (let i = 0; i < 10; i++) publisher.publish(makeMessage(i));
    leaving.child.stdin!.write('leave\n');
    expect((await reportOf(leaving)).end).toBe('left');
    killed.child.kill('SIGKILL');
    await Promise.all([leaving.exit, killed.exit]);
    // Both slots are free again: a new subscriber takes either, without the publisher's help.
    const a = Topic.subscribe(publisher.id);
    const b = Topic.subscribe(publisher.id);
    ends.push(a, b);
    publisher.publish(makeMessage(10));
    expect(checkMessage(a.receive({ timeoutMs: 1000 })!)).toBe(10);
    expect(checkMessage(b.receive({ timeoutMs: 1000 })!)).toBe(10);
    expect(publisher.subscribers).toBe(2);
  });
});
