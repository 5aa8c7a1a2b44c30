// Fuzz: an honest producer and an honest consumer (child processes) stream numbered, checksummed messages while a
// third process attaches the same segment and writes random values into random words of the header and the
// ring, at a high rate. Whatever it writes, no process may crash or hang, the consumer may only deliver messages
// the producer sent byte for byte (in strict rounds, where the scribbler spares the counters and the ring) and
// never one longer than maxMessageSize, and each end finishes with success, EPROTO or EPIPE.
//
// The three programs (test/fixtures/sync/fuzz-*.ts, scribbler.ts) live across rounds, since a child start costs
// seconds here; each round is a fresh channel. A round that does not finish in time fails the test (a hang), and
// the children are then killed.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { readProcShm, ringLayout as L } from '../../lib/internal.js';
import { killChildren, recordProgram, type ChildExit, type RecordedChild } from '../support/child.js';
import type { FuzzRound } from '../fixtures/sync/fuzz-producer.js';
import type { ConsumerReport } from '../fixtures/sync/fuzz-consumer.js';
import type { ScribbleReport } from '../fixtures/sync/scribbler.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));
const ROUNDS = 50;
const TIMEOUT_MS = 5000; // of every send and receive: a round that takes much longer has hung

afterEach(killChildren);

interface Trio {
  producer: RecordedChild;
  consumer: RecordedChild;
  scribbler: RecordedChild;
}

function startTrio(): Trio {
  return {
    producer: recordProgram(program('fuzz-producer')),
    consumer: recordProgram(program('fuzz-consumer')),
    scribbler: recordProgram(program('scribbler')),
  };
}

const send = (child: RecordedChild, line: string) => child.child.stdin!.write(`${line}\n`);

async function runRound(trio: Trio, r: number, params: FuzzRound) {
  const json = JSON.stringify(params);
  send(trio.producer, `round ${r} ${json}`);
  const [, id, max] = await trio.producer.line(new RegExp(`^ready ${r} (\\d+) (\\d+)$`, 'm'), 30_000);
  send(trio.consumer, `open ${r} ${id} ${json}`);
  await trio.consumer.line(new RegExp(`^(opened|consumer) ${r}\\b`, 'm'), 10_000);
  send(trio.scribbler, `attack ${r} ${id} ${json}`);
  await trio.scribbler.line(new RegExp(`^attached ${r}$`, 'm'), 10_000);
  send(trio.producer, `go ${r}`);
  await trio.producer.line(new RegExp(`^(going|producer) ${r}\\b`, 'm'), 10_000);
  send(trio.scribbler, `start ${r}`);
  // Each end needs at most its sending time plus a timeout or two; beyond that something hangs.
  const limit = params.sendMs + 3 * TIMEOUT_MS + 5000;
  const [p, c, s] = await Promise.all([
    trio.producer.line(new RegExp(`^producer ${r} (\\{.*\\})$`, 'm'), limit),
    trio.consumer.line(new RegExp(`^consumer ${r} (\\{.*\\})$`, 'm'), limit),
    trio.scribbler.line(new RegExp(`^scribbled ${r} (\\{.*\\})$`, 'm'), limit),
  ]);
  return {
    id: Number(id),
    max: Number(max),
    producer: JSON.parse(p[1]) as { outcome: string; sent: number },
    consumer: JSON.parse(c[1]) as ConsumerReport,
    scribbler: JSON.parse(s[1]) as ScribbleReport,
  };
}

const roundArbitrary: fc.Arbitrary<FuzzRound> = fc
  .record({
    capacity: fc.constantFrom(64, 128, 256, 1024, 4096, 65536),
    spin: fc.constantFrom(0, 200, 4000),
    producerMode: fc.constantFrom('send' as const, 'reserve' as const, 'sendAsync' as const),
    consumerMode: fc.constantFrom('receive' as const, 'receiveInto' as const, 'peek' as const, 'receiveAsync' as const, 'tryReceive' as const),
    sendMs: fc.integer({ min: 100, max: 400 }),
    timeoutMs: fc.constant(TIMEOUT_MS),
    targets: fc.constantFrom('header' as const, 'key' as const, 'counters' as const, 'ring' as const, 'next' as const, 'mixed' as const),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    durationMs: fc.integer({ min: 20, max: 300 }),
    maxWrites: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(1_000_000)),
    // From a sparse attack (one write every few ms: the stream runs under it) to a dense one.
    burst: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 64 })),
    pauseUs: fc.oneof(fc.integer({ min: 500, max: 10_000 }), fc.integer({ min: 0, max: 500 })),
  })
  .map((round) => ({ ...round, strict: round.targets === 'header' || round.targets === 'key' }));

describe('a third process scribbling over a live channel', () => {
  it(`${ROUNDS} rounds: no crash, no hang, nothing delivered that was not sent or that is longer than the ring allows`, async () => {
    let trio: Trio | undefined;
    let r = 0;
    const ids: number[] = [];
    const stats = {
      rounds: 0,
      strict: 0,
      writes: 0,
      messagesSent: 0,
      delivered: 0,
      garbage: 0,
      wholeStreams: 0,
      producer: {} as Record<string, number>,
      consumer: {} as Record<string, number>,
    };
    const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
    let failure: unknown;
    try {
      await fc.assert(
        fc.asyncProperty(roundArbitrary, async (params) => {
          trio ??= startTrio();
          const round = await runRound(trio, ++r, params);
          ids.push(round.id);
          const { producer: p, consumer: c, scribbler: s, max } = round;
          const wrote = (offset: number) => s.headerOffsets.includes(offset);
          const where = `round ${r} ${JSON.stringify(params)}: producer ${JSON.stringify(p)}, consumer ${JSON.stringify(c)}, scribbler wrote header offsets ${s.headerOffsets.join(',')}`;
          // Waiting out a timeout is allowed only where the scribbler un-closed the other end (it wrote the
          // other end's closed flag, while this end's process lives on for the next round).
          expect(['done', 'EPIPE', 'EPROTO', ...(wrote(L.OFF_CONSUMER_CLOSED) ? ['ETIMEDOUT'] : [])], where).toContain(p.outcome);
          expect(['EPIPE', 'EPROTO', ...(wrote(L.OFF_PRODUCER_CLOSED) ? ['timeout'] : [])], where).toContain(c.outcome);
          expect(c.maxLength, where).toBeLessThanOrEqual(max);
          if (params.strict) {
            expect(c.garbage, where).toBe(0);
            expect(c.exact, where).toBeLessThanOrEqual(p.sent);
            // The stream ended normally: everything sent arrived (unless the scribbler wrote "producer closed").
            if (p.outcome === 'done' && c.outcome === 'EPIPE' && !wrote(L.OFF_PRODUCER_CLOSED)) {
              expect(c.exact, where).toBe(p.sent);
              stats.wholeStreams++;
            }
          }
          stats.rounds++;
          if (params.strict) stats.strict++;
          stats.writes += s.writes;
          stats.messagesSent += p.sent;
          stats.delivered += c.exact + c.garbage;
          stats.garbage += c.garbage;
          count(stats.producer, `${params.targets}:${p.outcome}`);
          count(stats.consumer, `${params.targets}:${c.outcome}`);
        }),
        // Shrinking would replay rounds for minutes; the failing round's parameters are in the message.
        { numRuns: ROUNDS, endOnFailure: true },
      );
    } catch (error) {
      failure = error; // a round failed or hung: reported below, after the children are stopped
    }
    if (failure) {
      await killChildren(); // one of them may hang
      throw failure;
    }
    // Ending their input ends the programs: each must exit by itself, without a signal (no crash, no hang).
    const exits: ChildExit[] = [];
    if (trio) {
      for (const child of [trio.producer, trio.consumer, trio.scribbler]) child.child.stdin!.end();
      const timer = setTimeout(() => void killChildren(), 20_000);
      exits.push(...(await Promise.all([trio.producer.exit, trio.consumer.exit, trio.scribbler.exit])));
      clearTimeout(timer);
    }
    for (const exit of exits) expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    console.log(`fuzz: ${JSON.stringify(stats)}`);
    expect(stats.messagesSent).toBeGreaterThan(0);
    const left = new Set((readProcShm() ?? []).map((row) => row.shmid));
    expect(ids.filter((id) => left.has(id))).toEqual([]); // every channel's segment is gone
  }, 180_000);
});
