// SIGKILL at random moments of a producer/consumer pair over a Channel (creating, attaching, sending,
// receiving, detaching): the survivor never hangs past its timeout, never reads a torn message, and no
// segment is left behind (the channel removes its segment as soon as it exists).
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readProcShm } from '../../lib/internal.js';
import { killChildren, recordProgram } from '../support/child.js';

const RUNS = 24;

// The producer sends [sha1 of body][body] for ever; the consumer checks every digest and the order (their
// exit codes and lines: test/fixtures/hostile/checked-*.ts).
const program = (name: string) => fileURLToPath(new URL(`../fixtures/hostile/${name}.ts`, import.meta.url));

afterEach(killChildren);

describe('SIGKILL anywhere in a producer/consumer pair', () => {
  it(`survives ${RUNS} kills at random points with no hang, no torn message and no leak`, async () => {
    const outcomes = { killedProducer: 0, killedConsumer: 0, killedBeforeOpen: 0, survivorSawEpipe: 0 };
    for (let run = 0; run < RUNS; run++) {
      const tx = recordProgram(program('checked-producer'));
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
      const rx = recordProgram(program('checked-consumer'), [id]);
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
      expect(
        readProcShm()!.some((r) => r.shmid === id),
        `run ${run}: segment ${id} left`,
      ).toBe(false);
    }
    expect(outcomes.survivorSawEpipe).toBeGreaterThanOrEqual(RUNS / 2); // most kills landed mid-stream
    console.log(`kill test: ${JSON.stringify(outcomes)}`);
  }, 120_000);
});
