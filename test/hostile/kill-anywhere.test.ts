// SIGKILL at random moments of a producer/consumer pair over a Channel (creating, attaching, sending,
// receiving, detaching): the survivor never hangs past its timeout, never reads a torn message, and no
// segment is left behind (the channel removes its segment as soon as it exists).
import { afterEach, describe, expect, it } from 'vitest';
import { readProcShm } from '../../lib/native/procfs.js';
import { killChildren, recordChild } from '../support/child.js';

const RUNS = 24;

const producer = `
  import { Channel } from LIB;
  import { createHash } from 'node:crypto';
  const tx = Channel.create({ capacity: 1 << 16 });
  console.log('id ' + tx.id);
  let seq = 0;
  try {
    for (;;) {
      const size = 8 + ((seq * 7919) % 20000);
      const body = Buffer.alloc(size, seq & 0xff);
      body.writeUInt32LE(seq, 0);
      const digest = createHash('sha1').update(body).digest();
      tx.send(Buffer.concat([digest, body]), { timeoutMs: 3000 });
      seq++;
    }
  } catch (e) {
    // ETIMEDOUT is right when no consumer ever opened the channel (it was killed while starting).
    process.stdout.write('ended ' + e.code + ' after ' + seq + '\\n', () => process.exit({ EPIPE: 0, ETIMEDOUT: 5 }[e.code] ?? 2));
  }
`;

const consumer = (id: number) => `
  import { Channel } from LIB;
  import { createHash } from 'node:crypto';
  const rx = Channel.open(${id});
  console.log('open');
  let count = 0;
  try {
    for (;;) {
      const m = rx.receive({ timeoutMs: 3000 });
      if (m === null) { console.log('timeout'); process.exit(4); }
      const digest = Buffer.from(m.subarray(0, 20));
      const body = m.subarray(20);
      if (!createHash('sha1').update(body).digest().equals(digest) || Buffer.from(body).readUInt32LE(0) !== count) {
        console.log('torn message ' + count); process.exit(3);
      }
      count++;
    }
  } catch (e) {
    process.stdout.write('ended ' + e.code + ' after ' + count + '\\n', () => process.exit(e.code === 'EPIPE' ? 0 : 2));
  }
`;

afterEach(killChildren);

describe('SIGKILL anywhere in a producer/consumer pair', () => {
  it(`survives ${RUNS} kills at random points with no hang, no torn message and no leak`, async () => {
    const outcomes = { killedProducer: 0, killedConsumer: 0, killedBeforeOpen: 0, survivorSawEpipe: 0 };
    for (let run = 0; run < RUNS; run++) {
      const tx = recordChild(producer);
      const id = Number((await tx.line(/id (\d+)/))[1]);
      // Kill at a random moment: sometimes before the consumer even opened the channel.
      const victimIsProducer = run % 2 === 0;
      const delay = Math.floor(Math.random() * 150);
      if (run % 6 === 5) {
        tx.child.kill('SIGKILL');
        outcomes.killedBeforeOpen++;
        await tx.exit;
        expect(readProcShm()!.some((r) => r.shmid === id)).toBe(false);
        continue;
      }
      const rx = recordChild(consumer(id));
      // Mostly mid-stream (after the consumer opened); every fourth run while the consumer is still starting.
      if (run % 4 !== 3) await rx.line(/open/).catch(() => undefined); // or it died first: checked below
      await new Promise((resolve) => setTimeout(resolve, delay));
      (victimIsProducer ? tx : rx).child.kill('SIGKILL');
      victimIsProducer ? outcomes.killedProducer++ : outcomes.killedConsumer++;
      const [p, c] = await Promise.all([tx.exit, rx.exit]);
      const survivor = victimIsProducer ? c : p;
      const consumerOpened = c.stdout.includes('open');
      expect(survivor.stdout, `run ${run}: ${survivor.stdout}`).not.toMatch(/torn message|timeout/);
      expect(survivor.signal).toBeNull();
      if (victimIsProducer) {
        // EPIPE; or, if the producer died before the consumer opened, a clear error from open (exit 1).
        expect(consumerOpened ? [0] : [0, 1], `run ${run}: ${survivor.stdout}`).toContain(survivor.code);
      } else {
        // EPIPE once the consumer had opened; ETIMEDOUT (5) if it was killed before it opened.
        expect(consumerOpened ? [0] : [0, 5], `run ${run}: ${survivor.stdout}`).toContain(survivor.code);
        if (consumerOpened) outcomes.survivorSawEpipe++;
      }
      if (victimIsProducer && consumerOpened) outcomes.survivorSawEpipe++;
      expect(survivor.ms).toBeLessThan(10_000);
      expect(readProcShm()!.some((r) => r.shmid === id), `run ${run}: segment ${id} left`).toBe(false);
    }
    expect(outcomes.survivorSawEpipe).toBeGreaterThanOrEqual(RUNS / 2); // most kills landed mid-stream
    console.log(`kill test: ${JSON.stringify(outcomes)}`);
  }, 120_000);
});
