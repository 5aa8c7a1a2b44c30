// A channel whose shared memory another process writes into (a buggy peer, or any process of the same user):
// each forged header or ring word makes the end that reads it fail with EPROTO at once (or EPIPE / EBUSY where
// that is the truth), never hang, spin, allocate beyond the ring or deliver what was not sent. The calls run in
// child programs (test/fixtures/sync/) under a time limit, so that a hang fails the test instead of hanging it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Channel, ShmError, shmat, shmdt } from '../../lib/index.js';
import { readProcShm } from '../../lib/internal.js';
import { killChildren, recordProgram, type RecordedChild } from '../support/child.js';
import { expectEproto, expectStateError, forgeRuns, type ForgedOutcome } from '../support/forge.js';
import type { Outcome } from '../fixtures/sync/hostile.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

afterEach(killChildren);

type Report = ForgedOutcome & { received?: Array<number | string | null> };

const forge = forgeRuns<'open' | 'consumer' | 'producer' | 'liveness', Report>('forge', ['open', 'consumer', 'producer', 'liveness']);
beforeAll(forge.run, 90_000);
/** The outcome of one case, failing clearly if the program hung or crashed before reporting it. */
const outcome = forge.outcome;

describe('Channel.open checks the whole header', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad magic', 'EPROTO', /not a channel \(magic 0x12345678/],
    ['other version', 'EPROTO', /format version 1; this library speaks version 2/],
    ['capacity not a power of two', 'EPROTO', /capacity is 96, not a power of two/],
    ['capacity below the minimum', 'EPROTO', /capacity is 32, not a power of two in \[64/],
    ['capacity too big for the segment', 'EPROTO', /capacity 1048576 does not fit the segment/],
    ['data offset', 'EPROTO', /data offset is 2048, expected 1024/],
    ['max message', 'EPROTO', /max message is 64, expected 56/],
    ['producer pid 0', 'EPROTO', /producer pid is 0/],
    ['producer pid negative', 'EPROTO', /producer pid is -7/],
    ['producer pid of another live process', 'EPROTO', /names pid \d+ as the producer, but segment \d+ was created by pid \d+/],
    ['producer start time NaN', 'EPROTO', /producer start time is NaN/],
    ['producer closed', 'EPIPE', /already closed/],
    ['producer closed flag 2', 'EPROTO', /producer-closed flag is 2/],
    ['consumer pid taken', 'EBUSY', /already has a consumer \(pid 4242\)/],
    ['consumer pid negative', 'EPROTO', /consumer pid is -1/],
    ['consumer closed before any consumer', 'EPROTO', /consumer-closed flag is 1 but no consumer/],
    ['head beyond tail + capacity', 'EPROTO', /head is 72, not a multiple of 8 within 64 bytes/],
    ['head not a multiple of 8', 'EPROTO', /head is 12/],
    ['tail beyond head (not written by a consumer)', 'EPROTO', /tail is 8 but no consumer has opened/],
    ['tail behind head (not written by a consumer)', 'EPROTO', /tail is 16 but no consumer has opened/],
  ];
  it.each(cases)('%s: %s', (name, code, message) => {
    const report = outcome('open', name, 'open');
    expect(report.code, report.message).toBe(code);
    expect(report.message).toMatch(message);
    expectStateError(report, 'Channel.open');
    // A segment that is not a channel, or one of another version, is not evidence of a hostile writer.
    if (code === 'EPROTO' && !/magic|version/.test(name)) expect(report.message).toMatch(/another process wrote into the channel's header/);
  });

  it('messages the producer sent before the consumer opened are legitimate and arrive', () => {
    const report = outcome('open', 'legitimate: messages sent before open', 'open');
    expect(report.code, report.message).toBe('ok');
    expect(report.received).toEqual([8, 0, 24, null]);
  });

  it('a producer that died before open (its segment kept by another attachment): EPIPE at open', async () => {
    const producer = recordProgram(program('idle-producer'), [4096]);
    const id = Number((await producer.line(/id (\d+)/))[1]);
    const keeper = shmat(id); // the segment outlives its producer only through another attachment
    try {
      producer.child.kill('SIGKILL');
      await producer.exit;
      expect(() => Channel.open(id)).toThrow(
        expect.objectContaining({ code: 'EPIPE', operation: 'Channel.open', message: expect.stringMatching(/exited without closing/) }),
      );
      expect(() => Channel.open(id)).toThrow(ShmError);
    } finally {
      shmdt(keeper);
    }
    expect(readProcShm()!.some((row) => row.shmid === id)).toBe(false);
  });
});

describe('the consumer: forged head, record lengths and wrap markers', () => {
  const cases: Array<[string, RegExp]> = [
    ['head beyond tail + capacity', /head is 72, not a multiple of 8 within 64 bytes \(the capacity\) ahead of tail 0/],
    ['head not a multiple of 8', /head is 12/],
    ['record length larger than the ring', /a record of 67108864 bytes at ring offset 0 does not fit before the end of the ring/],
    ['record length past the end of the ring', /a record of 40 bytes at ring offset 32 does not fit before the end of the ring/],
    ['record length beyond head', /a record of 40 bytes \(48 with header and padding\) at ring offset 0, but only 16 bytes are published/],
    ['wrap marker at ring offset 0', /a wrap marker at ring offset 0/],
    ['two wrap markers in a row', /two wrap markers in a row/],
    ['wrap marker that skips past head', /a wrap marker at ring offset 32 skips 32 bytes, but only 24 are published/],
    ['producer closed flag 7', /producer-closed flag in the header is 7/],
  ];
  const methods = ['tryReceive', 'receive', 'receiveAsync', 'receiveInto', 'peek'];
  it.each(cases.flatMap(([name, message]) => methods.map((method) => [name, method, message] as const)))(
    '%s: %s throws EPROTO at once; the end then only closes',
    (name, method, message) => {
      const report = outcome('consumer', name, method);
      expectEproto(report, `Consumer.${method}`, message, method === 'tryReceive' ? 1000 : 2000);
      expect(report.message).toMatch(/Another process wrote into the channel's shared memory/);
    },
  );
});

describe('the producer: forged tail, closed flag and consumer pid', () => {
  const eproto = (name: string, method: string, message: RegExp) => expectEproto(outcome('producer', name, method), `Producer.${method}`, message);
  const all = ['trySend', 'send', 'sendAsync', 'reserve', 'available'];
  const tails: Array<[string, RegExp]> = [
    ['tail beyond head', /tail is 72; the consumer's tail only moves forward in multiples of 8, from 0 \(seen last\) to at most 64/],
    ['tail moved backwards (within a capacity of head)', /tail is 24; .* from 32 \(seen last\) to at most 80/],
    ['tail not a multiple of 8', /tail is 36; .* multiples of 8/],
  ];
  it.each(tails.flatMap(([name, message]) => all.map((method) => [name, method, message] as const)))('%s: %s throws EPROTO at once', (name, method, message) =>
    eproto(name, method, message),
  );

  it.each(['trySend', 'send', 'sendAsync', 'reserve'])('consumer closed flag 7: %s throws EPROTO at once', (method) =>
    eproto('consumer closed flag 7', method, /consumer-closed flag in the header is 7/),
  );

  const pids: Array<[string, RegExp]> = [
    ['consumer pid 0 after the tail moved', /consumer pid in the header is 0/],
    ['consumer pid negative', /consumer pid in the header is -1/],
    ['consumer pid changed to another live process', /consumer pid in the header is \d+, but it was \d+/],
  ];
  it.each(pids.flatMap(([name, message]) => ['send', 'sendAsync', 'reserve'].map((method) => [name, method, message] as const)))(
    '%s: %s waiting for room throws EPROTO at its first liveness check, not after its 3 s timeout',
    (name, method, message) => eproto(name, method, message),
  );

  it.each(pids.map(([name]) => name))('%s: trySend and available do not wait and do not look at the pid', (name) => {
    expect(outcome('producer', name, 'trySend').code).toBe('ok');
    expect(outcome('producer', name, 'available')).toMatchObject({ code: 'ok', length: -1 });
  });
});

describe('liveness: a forged producer identity is not taken for a live producer', () => {
  const cases: Array<[string, RegExp]> = [
    ['producer pid 0', /producer pid in the header is 0, but it was \d+/],
    ['producer pid negative', /producer pid in the header is -1, but it was \d+/],
    ['producer pid changed to another live process', /producer pid in the header is \d+, but it was \d+/],
    ['producer start time NaN', /producer start time in the header is NaN, but it was/],
  ];
  it.each(cases.flatMap(([name, message]) => ['receive', 'receiveAsync', 'receiveInto', 'peek'].map((method) => [name, method, message] as const)))(
    '%s: %s on an empty ring throws EPROTO at its first liveness check, not after its 3 s timeout',
    // Within 2 s: the first liveness check, well before the 3 s timeout.
    (name, method, message) => expectEproto(outcome('liveness', name, method), `Consumer.${method}`, message, 2000),
  );

  it.each(cases.map(([name]) => name))('%s: tryReceive returns null at once (it never waits, so it checks no pid)', (name) => {
    expect(outcome('liveness', name, 'tryReceive')).toMatchObject({ code: 'ok', length: null });
  });

  it("a process that keeps ringing the consumer's bell does not hide that the producer died", async () => {
    const producer = recordProgram(program('idle-producer'), [4096]);
    const id = Number((await producer.line(/id (\d+)/))[1]);
    const consumer = recordProgram(program('wait-receive'), [id, 8000]);
    await consumer.line(/open/);
    const ringer = recordProgram(program('ringer'), [id]);
    await ringer.line(/ringing/);
    producer.child.kill('SIGKILL');
    await producer.exit;
    consumer.child.stdin!.write('go\n');
    const report = JSON.parse((await consumer.line(/result (\{.*\})/, 20_000))[1]) as Outcome;
    expect(report.code, report.message).toBe('EPIPE');
    expectStateError(report, 'Consumer.receive');
    expect(report.ms).toBeLessThan(5000); // a few liveness slices, not the 8 s timeout
    ringer.child.kill('SIGKILL');
    await Promise.all([consumer.exit, ringer.exit]);
    expect(readProcShm()!.some((row) => row.shmid === id)).toBe(false);
  }, 60_000);
});

describe('a record length that another process changes between the check and the copy', () => {
  it('the consumer uses the length it checked: it delivers exactly the 56 bytes sent or fails with EPROTO, never 64 MiB', async () => {
    const consumer: RecordedChild = recordProgram(program('flip-consumer'), [300, 60, 20, 20_000]);
    const controlId = Number((await consumer.line(/control (\d+)/))[1]);
    const flipper = recordProgram(program('flipper'), [controlId]);
    await flipper.line(/flipping/);
    consumer.child.stdin!.write('go\n');
    const results = JSON.parse((await consumer.line(/results (\{.*\})/, 60_000))[1]) as {
      delivered: number;
      eproto: number;
      other: Record<string, number>;
      lengths: Record<string, number>;
      intact: number;
      maxLength: number;
      arrayBuffersPeak: number;
    };
    const [c, f] = await Promise.all([consumer.exit, flipper.exit]);
    expect(c.signal).toBeNull();
    expect(f.signal).toBeNull();
    const flips = Number(/flips (\d+)/.exec(f.stdout)?.[1] ?? 0);
    console.log(`flip test: ${JSON.stringify(results)}, ${flips} flips`);
    expect(flips).toBeGreaterThan(0);
    expect(results.eproto).toBeGreaterThan(0); // the flipper did reach the consumer's reads
    expect(results.other).toEqual({}); // no RangeError (a length larger than the target), nothing else
    expect(Object.keys(results.lengths)).toEqual(['56']);
    expect(results.maxLength).toBe(56);
    expect(results.intact).toBe(results.delivered);
    expect(results.arrayBuffersPeak).toBeLessThan(16 << 20); // never a 64 MiB buffer
  }, 90_000);
});
