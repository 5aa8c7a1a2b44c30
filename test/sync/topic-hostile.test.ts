// A topic whose shared memory another process writes into: each forged word makes the end that reads it fail with
// EPROTO (at once, and again on the next call), never hang, crash, or deliver an oversized message; random words
// forged at random moments end every call one way or another. The calls run in a child program
// (test/fixtures/sync/topic-forge.ts) under a time limit, so that a hang fails the test instead of hanging it.
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runProgram, type ChildResult } from '../support/child.js';

const forge = fileURLToPath(new URL('../fixtures/sync/topic-forge.ts', import.meta.url));

let cases: ChildResult;
let scribbled: ChildResult;
beforeAll(() => {
  cases = runProgram(forge, [], { timeoutMs: 60_000 });
  scribbled = runProgram(forge, ['scribble', 60], { timeoutMs: 60_000 });
}, 130_000);

function outcome(name: string): { code: string; message: string; operation: string; again?: string } {
  const line = cases.stdout.split('\n').find((l) => l.startsWith(`case ${name} {`));
  if (!line) throw new Error(`topic-forge.ts never reported "${name}" (status ${cases.status}, signal ${cases.signal}): ${cases.stderr}`);
  return JSON.parse(line.slice(`case ${name} `.length));
}

describe('forged words of a topic: EPROTO, final for that end', () => {
  it.each([
    ['subscribe: bad magic', 'Topic.subscribe', /not a topic \(magic 0x12345678/],
    ['subscribe: other version', 'Topic.subscribe', /format version 2; this library speaks version 1/],
    ['subscribe: capacity not a power of two', 'Topic.subscribe', /capacity is 96/],
    ['subscribe: slots 0', 'Topic.subscribe', /subscriber slots are 0/],
    ['subscribe: data offset', 'Topic.subscribe', /data offset is 4096/],
    ['subscribe: max message', 'Topic.subscribe', /max message is 256, expected 248/],
    ['subscribe: policy 3', 'Topic.subscribe', /policy is 3/],
    ['subscribe: publisher pid 0', 'Topic.subscribe', /publisher pid is 0/],
    ['subscribe: publisher pid of another process', 'Topic.subscribe', /as the publisher, but segment \d+ was created by pid/],
    ['subscribe: publisher closed flag 2', 'Topic.subscribe', /publisher-closed flag is 2/],
    ['subscribe: head not a multiple of 8', 'Topic.subscribe', /head 12/],
    ['subscribe: oldest under block', 'Topic.subscribe', /oldest 8/],
    ['block subscriber: head beyond the capacity', 'Subscriber.receive', /head is 280/],
    ['block subscriber: record length beyond head', 'Subscriber.receive', /a record of 100 bytes/],
    ['block subscriber: sequence number forged', 'Subscriber.receive', /sequence number 7, expected 0/],
    ['block subscriber: slot state forged while joining', 'Subscriber.receive', /slot 0 has state 5/],
    ['block subscriber: slot taken by another process', 'Subscriber.receive', /another process freed it/],
    ['drop subscriber: oldest beyond head', 'Subscriber.receive', /head 16 and oldest 64/],
    ['drop subscriber: record length beyond head', 'Subscriber.receive', /a record of 100 bytes/],
    ['drop subscriber: sequence number repeated', 'Subscriber.receive', /sequence number 0, expected 1/],
    ['drop subscriber: oldest sequence number ahead of oldest', 'Subscriber.receive', /oldest sequence number 1000 is past the record/],
    ['block publisher: a cursor moved backward', 'Publisher.publish', /cursor of subscriber slot 0 is 8; .* from 128/],
    ['block publisher: a cursor beyond head', 'Publisher.publish', /cursor of subscriber slot 0 is 320/],
    ['block publisher: closed flag 7', 'Publisher.publish', /closed flag of subscriber slot 0 is 7/],
    ['publisher: slot state 9', 'Publisher.publish', /slot 1 has state 9/],
    ['drop publisher: its own record scribbled', 'Publisher.publish', /reads length 65536/],
    ['drop publisher: a sequence number scribbled', 'Publisher.publish', /sequence 55, but the publisher wrote sequence 0/],
  ])('%s', (name, operation, message) => {
    const report = outcome(name);
    expect([report.code, report.operation], report.message).toEqual(['EPROTO', operation]);
    expect(report.message).toMatch(message);
    expect(report.again).toBe('EPROTO');
  });

  it('the program ran every case to its end', () => {
    expect(cases.stdout).toMatch(/^done$/m);
    expect([cases.status, cases.signal]).toEqual([0, null]);
  });
});

it('random words forged at random moments: every call ends (ok, null, EPROTO, EPIPE, ETIMEDOUT), nothing oversized', () => {
  const match = scribbled.stdout.match(/scribbled (\{.*\})/);
  expect(match, scribbled.stderr).not.toBeNull();
  const codes = JSON.parse(match![1]) as Record<string, number>;
  expect(Object.keys(codes).filter((code) => !['ok', 'EPROTO', 'EPIPE', 'ETIMEDOUT'].includes(code))).toEqual([]);
  expect(codes.EPROTO).toBeGreaterThan(0);
  expect([scribbled.status, scribbled.signal]).toEqual([0, null]);
});
