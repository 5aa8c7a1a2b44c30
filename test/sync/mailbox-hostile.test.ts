// A mailbox whose shared memory another process writes into (a buggy sender, or any process of the same user): each
// forged header, lane or ring word makes the end that reads it fail with EPROTO at once (or EPIPE / EAGAIN where
// that is the truth), never hang, crash, allocate beyond a lane or deliver what was not sent. The forging runs in
// child programs (test/fixtures/sync/mailbox-forge.ts) under a time limit, so that a hang fails a test instead of
// hanging the run; then a process scribbling random words over a live mailbox.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readProcShm } from '../../lib/internal.js';
import { killChildren, recordProgram, type RecordedChild } from '../support/child.js';
import { expectEproto, expectStateError, forgeRuns, type ForgedOutcome } from '../support/forge.js';
import type { CheckReport } from '../fixtures/sync/mailbox-check-receiver.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

afterEach(killChildren);

type Report = ForgedOutcome & { lane?: number; sender?: number };

const forge = forgeRuns<'connect' | 'receiver' | 'liveness' | 'sender', Report>('mailbox-forge', ['connect', 'receiver', 'liveness', 'sender']);
beforeAll(forge.run, 90_000);
/** The outcome of one case, failing clearly if the program hung or crashed before reporting it. */
const outcome = forge.outcome;

describe('Mailbox.connect checks the whole header', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad magic', 'EPROTO', /is not a mailbox \(magic 0x12345678, expected 0x424d4853\)/],
    ['other version', 'EPROTO', /format version 2; this library speaks version 1/],
    ['lane count 0', 'EPROTO', /lane count is 0, not in \[1, 1024\]/],
    ['lane count 1025', 'EPROTO', /lane count is 1025, not in \[1, 1024\]/],
    ['lane count negative', 'EPROTO', /lane count is -1/],
    ['more lanes than the segment holds', 'EPROTO', /3 lanes of 64 bytes do not fit the segment \(1408 bytes\)/],
    ['fewer lanes than made', 'EPROTO', /rings offset is 1280, expected 768/],
    ['capacity not a power of two', 'EPROTO', /lane capacity is 96, not a power of two/],
    ['capacity below the minimum', 'EPROTO', /lane capacity is 32, not a power of two in \[64/],
    ['capacity too big for the segment', 'EPROTO', /2 lanes of 1048576 bytes do not fit the segment/],
    ['capacity 2^31', 'EPROTO', /lane capacity is 2147483648/],
    ['rings offset', 'EPROTO', /rings offset is 4096, expected 1280/],
    ['max message', 'EPROTO', /max message is 64, expected 56/],
    ['receiver pid 0', 'EPROTO', /receiver pid is 0/],
    ['receiver pid negative', 'EPROTO', /receiver pid is -7/],
    ['receiver pid of another live process', 'EPROTO', /names pid \d+ as the receiver, but segment \d+ was created by pid \d+/],
    ['receiver start time NaN', 'EPROTO', /receiver start time is NaN/],
    ['receiver start time negative', 'EPROTO', /receiver start time is -1/],
    ['receiver closed flag 2', 'EPROTO', /receiver-closed flag is 2/],
    ['receiver closed', 'EPIPE', /the receiver has already closed this mailbox/],
    ['a free lane whose head is not 0', 'EPROTO', /lane 0 is free but not clean \(head 8, tail 0, closed 0\)/],
    ['a free lane whose tail is not 0', 'EPROTO', /lane 0 is free but not clean \(head 0, tail 16, closed 0\)/],
    ['a free lane marked closed', 'EPROTO', /lane 0 is free but not clean \(head 0, tail 0, closed 1\)/],
    ['every lane claimed by a live process', 'EAGAIN', /all 2 sender lanes of mailbox \d+ are taken/],
  ];
  it.each(cases)('%s: %s', (name, code, message) => {
    const report = outcome('connect', name, 'connect');
    expect(report.code, report.message).toBe(code);
    expect(report.message).toMatch(message);
    expectStateError(report, 'Mailbox.connect');
    expect(report.ms).toBeLessThan(1000);
    if (code === 'EPROTO' && !/magic|version/.test(name)) expect(report.message).toMatch(/another process wrote into the mailbox/);
  });

  it('a sender that connected and sent before is legitimate: the next connect takes the other lane', () => {
    expect(outcome('connect', 'legitimate: another sender connected and sent first', 'connect')).toMatchObject({ code: 'ok', lane: 1, sender: 2 });
  });

  it.each([
    ['a channel', /is not a mailbox \(magic 0x434d4853, expected 0x424d4853\)/],
    ['a segment of zeros', /is not a mailbox \(magic 0x0, expected 0x424d4853\)/],
    ['a segment too small to be a mailbox', /\(100 bytes\) is too small to be a mailbox/],
  ])('connect to a segment that is not a mailbox (%s): EPROTO', (name, message) => {
    const report = outcome('connect', name, 'connect');
    expect(report.code, report.message).toBe('EPROTO');
    expect(report.message).toMatch(message);
    expectStateError(report, 'Mailbox.connect');
  });
});

const receiveMethods = ['tryReceive', 'receive', 'receiveAsync', 'receiveInto', 'peek', 'forAwait'];
/** The operation a method's error names (for await runs receiveAsync). */
const operationOf = (method: string) => `Mailbox.${method === 'forAwait' ? 'receiveAsync' : method}`;

describe('the receiver: forged lane counters, record lengths, wrap markers and lane identities', () => {
  const cases: Array<[string, RegExp]> = [
    ['lane head beyond tail + capacity', /head is 72, not a multiple of 8 within 64 bytes \(the capacity\) ahead of tail 0/],
    ['lane head not a multiple of 8', /head is 12/],
    ['record length larger than the ring', /a record of 67108864 bytes at ring offset 0 does not fit before the end of the ring/],
    ['record length beyond head', /a record of 40 bytes \(48 with header and padding\) at ring offset 0, but only 16 bytes are published/],
    ['wrap marker at ring offset 0', /a wrap marker at ring offset 0/],
    ['two wrap markers in a row', /two wrap markers in a row \(ring offsets 32 and 0\)/],
    ['lane closed flag 7', /sender-closed flag in the header is 7/],
    ['a claimed lane whose ready flag is 2', /lane 1's ready flag is 2 \(0 or 1\)/],
    ['a ready lane whose sender id is 0', /lane 0's sender id is 0/],
    ['a ready lane whose pid is negative', /lane 1's sender pid is -5/],
    ['a ready lane whose start time is NaN', /lane 0's sender start time is NaN/],
  ];
  it.each(cases.flatMap(([name, message]) => receiveMethods.map((method) => [name, method, message] as const)))(
    '%s: %s throws EPROTO at once, and every later call too',
    (name, method, message) => {
      const report = outcome('receiver', name, method);
      expectEproto(report, operationOf(method), message);
      expect(report.message).toMatch(/Another process wrote into the mailbox's shared memory/);
    },
  );
});

describe('liveness: a forged identity of a sender the receiver has seen is not taken for a live or a dead sender', () => {
  const cases: Array<[string, RegExp]> = [
    ['sender pid 0', /sender pid in the header is 0, but it was \d+/],
    ['sender pid negative', /sender pid in the header is -1, but it was \d+/],
    ['sender pid changed to another live process', /sender pid in the header is \d+, but it was \d+/],
    ['sender start time NaN', /sender start time in the header is NaN, but it was/],
    ['sender start time changed', /sender start time in the header is \d+, but it was \d+/],
  ];
  it.each(cases.flatMap(([name, message]) => receiveMethods.slice(1).map((method) => [name, method, message] as const)))(
    '%s: %s on an empty mailbox throws EPROTO at its first liveness check, not after its 3 s timeout',
    (name, method, message) => expectEproto(outcome('liveness', name, method), operationOf(method), message),
  );

  it.each(cases.map(([name]) => name))('%s: tryReceive never waits (null now, or EPROTO if it checked)', (name) => {
    const report = outcome('liveness', name, 'tryReceive');
    expect(['ok', 'EPROTO']).toContain(report.code);
    if (report.code === 'ok') expect(report.length).toBeNull();
    expect(report.ms).toBeLessThan(1000);
  });
});

describe('the sender: forged tail, receiver-closed flag and receiver identity', () => {
  const all = ['trySend', 'send', 'sendAsync', 'reserve'];
  const tails: Array<[string, RegExp]> = [
    ['lane tail beyond head', /tail is 72; .* only moves forward in multiples of 8, from 0 \(seen last\) to at most 64/],
    ['lane tail moved backwards', /tail is 24; .* from 32 \(seen last\) to at most 80/],
    ['lane tail not a multiple of 8', /tail is 36; .* multiples of 8/],
    ['receiver closed flag 7', /receiver-closed flag in the header is 7/],
  ];
  it.each(tails.flatMap(([name, message]) => all.map((method) => [name, method, message] as const)))('%s: %s throws EPROTO at once', (name, method, message) =>
    expectEproto(outcome('sender', name, method), `MailboxSender.${method}`, message),
  );

  const identities: Array<[string, RegExp]> = [
    ['receiver pid changed to another live process (lane full)', /receiver pid in the header is \d+, but it was \d+/],
    ['receiver pid 0 (lane full)', /receiver pid in the header is 0, but it was \d+/],
    ['receiver start time NaN (lane full)', /receiver start time in the header is NaN, but it was \d+/],
  ];
  it.each(identities.flatMap(([name, message]) => ['send', 'sendAsync', 'reserve'].map((method) => [name, method, message] as const)))(
    '%s: %s waiting for room throws EPROTO at its first liveness check, not after its 3 s timeout',
    (name, method, message) => expectEproto(outcome('sender', name, method), `MailboxSender.${method}`, message),
  );

  it.each(identities.map(([name]) => name))('%s: trySend does not wait and does not look at the pid (false: the lane is full)', (name) => {
    expect(outcome('sender', name, 'trySend').code).toBe('ok');
  });
});

describe('a process scribbling random words over a live mailbox', () => {
  interface Round {
    target: 'identity' | 'all';
    mode: string;
    /** A few writes (the stream may survive them, and must then arrive as sent), or as many as fit in 400 ms. */
    writes: number;
  }
  const rounds: Round[] = [
    { target: 'identity', mode: 'receive', writes: 1e6 },
    { target: 'identity', mode: 'receiveAsync', writes: 8 },
    { target: 'identity', mode: 'peek', writes: 1e6 },
    { target: 'all', mode: 'receive', writes: 1e6 },
    { target: 'all', mode: 'receiveInto', writes: 8 },
    { target: 'all', mode: 'tryReceive', writes: 1e6 },
  ];
  const CAPACITY = 1024;

  it.each(rounds)(
    'scribbling $target words (at most $writes) while 2 senders send and the receiver uses $mode: no crash, no hang, no message longer than a lane allows; only EPROTO or messages as sent where the counters and rings are spared',
    async ({ target, mode, writes }) => {
      const seed = 1 + Math.floor(Math.random() * 0x7ffffffe);
      const where = `seed ${seed}`;
      const receiver = recordProgram(program('mailbox-check-receiver'), [CAPACITY, 3, mode, 1000]);
      const id = Number((await receiver.line(/^id (\d+)$/m))[1]);
      const scribbler = recordProgram(program('mailbox-scribbler'), [id, seed, 400, target, writes]);
      const senders: RecordedChild[] = ['send', 'sendAsync'].map((m, i) =>
        recordProgram(program('mailbox-sender'), [id, i, -1, m, 'close', -1, 3000, 0, 1200]),
      );
      await scribbler.line(/^attached$/m);
      await Promise.all(senders.map((s) => s.line(/^(connected|refused)/m)));
      scribbler.child.stdin!.write('go\n');
      scribbler.child.stdin!.end();
      // Everyone ends by itself: sending stops after 1.2 s (or at an error), receiving after 1 s of silence.
      const timer = setTimeout(() => void killChildren(), 30_000);
      const exits = await Promise.all([receiver.exit, scribbler.exit, ...senders.map((s) => s.exit)]);
      clearTimeout(timer);
      for (const exit of exits)
        expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }, `${where}: ${exit.stdout}`).toEqual({ code: 0, signal: null, stderr: '' });
      const report = JSON.parse(/^result (\{.*\})$/m.exec(exits[0].stdout)![1]) as CheckReport;
      const scribbled = /^scribbled (\{.*\})$/m.exec(exits[1].stdout)?.[1];
      const summary = `${where}: receiver ${JSON.stringify(report)}, scribbler ${scribbled}, senders ${senders.map((_, i) => exits[2 + i].stdout.trim().split('\n').pop())}`;
      console.log(`scribble ${target}/${mode}: ${summary}`);
      expect(['idle', 'EPROTO'], summary).toContain(report.outcome);
      expect(report.maxLength, summary).toBeLessThanOrEqual(CAPACITY - 8);
      expect(report.arrayBuffersPeak, summary).toBeLessThan(64 << 20);
      if (target === 'identity') {
        expect(report.garbage, summary).toBe(0);
        expect(report.disorder, summary).toBe(0);
      }
      for (const i of senders.keys()) {
        expect(exits[2 + i].stdout, summary).toMatch(/^(closed|ended (EPIPE|EPROTO|ETIMEDOUT) \d+|refused (EPROTO|EAGAIN|EPIPE) .*)$/m);
      }
      expect(readProcShm()!.some((row) => row.shmid === id)).toBe(false);
    },
    60_000,
  );
});
