// Property: whatever senders do — join at random moments (beyond the sender limit too), send a random number of
// messages in any of the send modes, then close, exit without closing, or get killed with SIGKILL at a random
// moment — the receiver (this process, receiving asynchronously all along) gets every message each sender
// published, whole, once, in that sender's order, with that sender's id and pid; nothing hangs; every lane is
// reclaimed; and once the receiver closes, nothing is left of the segment. Senders are child processes
// (test/fixtures/sync/mailbox-sender.ts); a killed sender's "published" is known to one message (its progress
// counter, stored after each send returned: it published that many, or one more).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { Mailbox } from '../../lib/index.js';
import { procRow } from '../support/segments.js';
import { killChildren, recordProgram, type RecordedChild } from '../support/child.js';
import { Progress, Tally } from '../fixtures/sync/mailbox-messages.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));
const RUNS = 8;
/** Far beyond the liveness interval (50 ms to ~1 s) and a child's start-up here (~1 s): reaching it is a hang. */
const BOUND_MS = 20_000;

interface SenderPlan {
  joinAfterMs: number;
  count: number;
  mode: 'send' | 'reserve' | 'sendAsync' | 'trySend';
  end: 'close' | 'exit' | 'kill';
  /** For end 'kill': how long after it connected. */
  killAfterMs: number;
}

const planArbitrary = fc.record({
  lanes: fc.integer({ min: 2, max: 4 }),
  capacity: fc.constantFrom(256, 1024, 8192),
  into: fc.boolean(),
  senders: fc.array(
    fc.record({
      joinAfterMs: fc.integer({ min: 0, max: 500 }),
      count: fc.integer({ min: 0, max: 3000 }),
      mode: fc.constantFrom('send' as const, 'reserve' as const, 'sendAsync' as const, 'trySend' as const),
      end: fc.constantFrom('close' as const, 'exit' as const, 'kill' as const),
      killAfterMs: fc.integer({ min: 0, max: 400 }),
    }),
    { minLength: 2, maxLength: 6 },
  ),
});

let progress: Progress;
beforeAll(() => {
  progress = Progress.create();
});
afterAll(() => progress.close());
afterEach(killChildren);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function within<T>(what: string, promise: Promise<T>, ms = BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

let nextIndex = 0;
const stats = { runs: 0, senders: 0, refused: 0, killed: 0, exited: 0, closed: 0, messages: 0 };

interface Outcome {
  index: number;
  plan: SenderPlan;
  child: RecordedChild;
  /** 'refused' (EAGAIN: every lane taken), or how it ended. */
  result: 'refused' | 'killed' | 'done';
  sent: number;
}

async function runSender(id: number, plan: SenderPlan): Promise<Outcome> {
  await sleep(plan.joinAfterMs);
  const index = nextIndex++;
  progress.set(index, 0);
  const kill = plan.end === 'kill';
  const child = recordProgram(program('mailbox-sender'), [id, index, kill ? -1 : plan.count, plan.mode, kill ? 'hold' : plan.end, progress.id, BOUND_MS]);
  const first = await child.line(/^(connected|refused) ?(\w*)/m, BOUND_MS);
  if (first[1] === 'refused') {
    expect(first[2], child.stdout()).toBe('EAGAIN');
    await child.exit;
    return { index, plan, child, result: 'refused', sent: 0 };
  }
  if (kill) {
    await sleep(plan.killAfterMs);
    child.child.kill('SIGKILL');
    const exit = await child.exit;
    expect(exit.signal, exit.stdout + exit.stderr).toBe('SIGKILL');
    return { index, plan, child, result: 'killed', sent: progress.get(index) };
  }
  const exit = await child.exit;
  expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(exit.stdout).toMatch(new RegExp(`^sent ${plan.count}$`, 'm'));
  return { index, plan, child, result: 'done', sent: plan.count };
}

describe('random joins, leaves and SIGKILLs of sender processes', () => {
  it(`${RUNS} runs: no hang, no torn or duplicated message, each sender's order kept, every lane reclaimed, nothing leaked`, async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary, async (plan) => {
        const mailbox = Mailbox.create({ capacity: plan.capacity, senders: plan.lanes, spin: 0 });
        const id = mailbox.id;
        const tally = new Tally(mailbox.maxMessageSize);
        const target = new Uint8Array(mailbox.maxMessageSize);
        let stop = false;
        const receiving = (async () => {
          while (!stop) {
            if (plan.into) {
              const receipt = await mailbox.receiveIntoAsync(target, { timeoutMs: 100 });
              if (receipt) tally.add(target.subarray(0, receipt.length), receipt.sender, receipt.pid);
            } else {
              const message = await mailbox.receiveAsync({ timeoutMs: 100 });
              if (message) tally.add(message.data, message.sender, message.pid);
            }
          }
        })();
        try {
          const outcomes = await within('the senders', Promise.all(plan.senders.map((p) => runSender(id, p))), BOUND_MS * 2);
          // Everything published arrives, and every lane is freed (closed ones once drained, dead ones once noticed).
          const settled = () =>
            outcomes.every((o) => (o.result === 'killed' ? tally.count(o.index) >= o.sent : tally.count(o.index) === o.sent)) && mailbox.senders.length === 0;
          const t0 = performance.now();
          while (!settled()) {
            if (performance.now() - t0 > BOUND_MS) {
              throw new Error(
                `not settled: senders ${JSON.stringify(mailbox.senders)}, ${outcomes.map((o) => `${o.index}:${o.result} ${o.sent}/${tally.count(o.index)}`)}`,
              );
            }
            await sleep(20);
          }
          await sleep(50); // nothing more may come
          for (const o of outcomes) {
            const got = tally.count(o.index);
            if (o.result === 'killed') expect([o.sent, o.sent + 1], `sender ${o.index} ${JSON.stringify(o.plan)}`).toContain(got);
            else expect(got, `sender ${o.index} ${JSON.stringify(o.plan)}`).toBe(o.sent);
            if (got > 0) expect(tally.from.get(o.index)!.pid).toBe(o.child.child.pid);
          }
          const ids = outcomes.filter((o) => tally.count(o.index) > 0).map((o) => tally.from.get(o.index)!.sender);
          expect(new Set(ids).size).toBe(ids.length); // sender ids are never reused
          // Every lane is free: as many new senders as lanes fit, one more does not.
          const fresh = Array.from({ length: plan.lanes }, () => Mailbox.connect(id));
          expect(() => Mailbox.connect(id)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
          for (const s of fresh) s.close();
          stats.runs++;
          stats.senders += outcomes.length;
          stats.messages += tally.total;
          for (const o of outcomes) stats[o.result === 'done' ? (o.plan.end === 'exit' ? 'exited' : 'closed') : o.result]++;
        } finally {
          stop = true;
          await receiving.catch(() => undefined);
          await killChildren();
          mailbox.close();
        }
        expect(procRow(id)).toBeUndefined();
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    console.log(`mailbox property: ${JSON.stringify(stats)}`);
    expect(stats.killed + stats.exited).toBeGreaterThan(0);
  }, 120_000);
});
