// Property: whatever the order of subscriber processes joining, leaving (close) and being killed (SIGKILL) while
// the publisher publishes, nothing hangs, no subscriber receives a torn, duplicated or reordered message, each
// receives what was published after it subscribed (all of it under 'block'; under 'drop' what it did not lose,
// counted exactly), and nothing is left behind (the suite's leak check).
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { Topic } from '../../lib/index.js';
import { killChildren, recordProgram, type RecordedChild } from '../support/child.js';
import { procRow } from '../support/segments.js';
import { makeMessage, type SubscriberReport } from '../fixtures/sync/topic-messages.js';

const program = fileURLToPath(new URL('../fixtures/sync/topic-subscriber.ts', import.meta.url));

afterEach(killChildren);

type Command = { kind: 'subscribe' } | { kind: 'leave'; which: number } | { kind: 'kill'; which: number } | { kind: 'publish'; count: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'subscribe' as const }), weight: 3 },
  { arbitrary: fc.nat(7).map((which) => ({ kind: 'leave' as const, which })), weight: 1 },
  { arbitrary: fc.nat(7).map((which) => ({ kind: 'kill' as const, which })), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 3000 }).map((count) => ({ kind: 'publish' as const, count })), weight: 3 },
);

interface Member {
  child: RecordedChild;
  /** The index of the first message published after it subscribed. */
  from: number;
}

const report = (child: RecordedChild) => child.line(/report (\{.*\})/, 60_000).then((m) => JSON.parse(m[1]) as SubscriberReport);

async function play(policy: 'block' | 'drop', commands: Command[]): Promise<void> {
  const publisher = Topic.create({ policy, capacity: 4096, subscribers: 8 });
  const id = publisher.id;
  const live: Member[] = [];
  let published = 0;
  try {
    for (const c of commands) {
      if (c.kind === 'subscribe' && live.length < 8) {
        const child = recordProgram(program, [id, policy]);
        await child.line(/subscribed/);
        live.push({ child, from: published });
      } else if (c.kind === 'publish') {
        for (let n = 0; n < c.count; n++, published++) {
          const message = makeMessage(published);
          // 'block' waits for the slowest live subscriber; a killed one is dropped within the liveness interval.
          if (!publisher.tryPublish(message)) await publisher.publishAsync(message, { timeoutMs: 20_000 });
        }
      } else if ((c.kind === 'leave' || c.kind === 'kill') && live.length > 0) {
        const [member] = live.splice(c.which % live.length, 1);
        if (c.kind === 'kill') {
          member.child.child.kill('SIGKILL');
          await member.child.exit;
          continue;
        }
        member.child.child.stdin!.write('leave\n');
        const r = await report(member.child);
        expect(r.bad).toEqual([]);
        if (r.received > 0 && policy === 'block') expect(r.first).toBe(member.from);
        if (r.received > 0) expect(r.first).toBeGreaterThanOrEqual(member.from);
        await member.child.exit;
      }
    }
  } finally {
    publisher.close();
  }
  for (const member of live) {
    const r = await report(member.child);
    expect(r.bad).toEqual([]);
    expect(r.end).toBe('EPIPE');
    expect(r.lost + r.received).toBe(published - member.from);
    if (policy === 'block') expect(r.lost).toBe(0);
    if (r.received > 0) expect(r.last).toBe(published - 1);
    await member.child.exit;
  }
  expect(procRow(id)).toBeUndefined();
}

describe.each(['block', 'drop'] as const)('topic fuzz (%s)', (policy) => {
  it('random joins, leaves and SIGKILLs of subscriber processes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 3, maxLength: 8 }), (commands) => play(policy, commands)),
      { numRuns: 4, endOnFailure: true },
    );
  }, 240_000);
});
