// The channel's adaptive spin, driven with a fake clock: what each way a wait can end teaches it.
import { describe, expect, it } from 'vitest';
import { MAX_PROBE_INTERVAL, MAX_SPIN_MS, PROBE_INTERVAL, SHORT_SLEEP_MS, SpinPolicy } from '../../lib/internal.js';

/** A spin that lasted past the bound (with margin: the fake clock adds floating-point numbers). */
const LONG_SPIN = MAX_SPIN_MS * 1.5;

/** A policy on a fake clock, and a way to play one wait that fails its spin and then sleeps. */
function harness(base: number) {
  let now = 1000;
  const policy = new SpinPolicy(base, () => now);
  /** A wait whose spin lasts `spinMs` (the loop checks the clock at its start and end) and then sleeps `sleepMs`. */
  const failedWait = (spinMs: number, sleepMs: number): number => {
    const budget = policy.next();
    if (budget > 0) {
      policy.keepSpinning();
      now += spinMs;
      policy.keepSpinning();
    }
    policy.slept(budget, now, sleepMs);
    now += sleepMs;
    return budget;
  };
  return { policy, failedWait };
}

describe('SpinPolicy', () => {
  it('spin 0 sleeps at once and never adapts', () => {
    const { policy, failedWait } = harness(0);
    for (let i = 0; i < 20; i++) expect(failedWait(0, 0.01)).toBe(0);
    expect(policy.futile).toBe(false);
  });

  it('doubles the spin while sleeps are short and the spins are quick', () => {
    const { policy, failedWait } = harness(100);
    expect(failedWait(0.001, 0.05)).toBe(100);
    expect(failedWait(0.002, 0.05)).toBe(200);
    expect(policy.next()).toBe(400);
  });

  it('halves back toward the configured spin after a long sleep', () => {
    const { policy, failedWait } = harness(100);
    failedWait(0.001, 0.05);
    failedWait(0.001, 0.05);
    failedWait(0.001, 0.05); // now 800
    failedWait(0.001, SHORT_SLEEP_MS * 4);
    expect(policy.next()).toBe(400);
    policy.slept(400, 0, SHORT_SLEEP_MS);
    policy.slept(200, 0, SHORT_SLEEP_MS);
    policy.slept(100, 0, SHORT_SLEEP_MS);
    expect(policy.next()).toBe(100);
  });

  it('keepSpinning never cuts the configured spin, only a grown one after MAX_SPIN_MS', () => {
    let now = 0;
    const policy = new SpinPolicy(100, () => now);
    policy.next();
    expect(policy.keepSpinning()).toBe(true);
    now += MAX_SPIN_MS * 10;
    expect(policy.keepSpinning()).toBe(true); // still the configured spin
    policy.slept(100, now, 0.01); // quick sleep after a spin that... lasted long: futile
    expect(policy.futile).toBe(true);

    const grown = new SpinPolicy(100, () => now);
    grown.next();
    grown.slept(100, now, 0.01); // no clock read: a short spin, so it grows
    expect(grown.next()).toBe(200);
    expect(grown.keepSpinning()).toBe(true);
    now += MAX_SPIN_MS / 2;
    expect(grown.keepSpinning()).toBe(true);
    now += MAX_SPIN_MS;
    expect(grown.keepSpinning()).toBe(false);
  });

  it('a long spin that fails with a short sleep means the peer shares this CPU: sleeps at once, then probes', () => {
    const { policy, failedWait } = harness(100);
    expect(failedWait(LONG_SPIN, 0.01)).toBe(100);
    expect(policy.futile).toBe(true);
    for (let i = 0; i < PROBE_INTERVAL; i++) expect(failedWait(0, 0.01)).toBe(0);
    // The probe: the configured spin again.
    expect(policy.next()).toBe(100);
  });

  it('each failed probe doubles the interval (bounded); a spin that succeeds starts over', () => {
    const { policy, failedWait } = harness(100);
    const sleepsBeforeSpin = (): number => {
      let n = 0;
      while (failedWait(LONG_SPIN, 0.01) === 0) n++;
      return n;
    };
    failedWait(LONG_SPIN, 0.01);
    expect(sleepsBeforeSpin()).toBe(PROBE_INTERVAL);
    expect(sleepsBeforeSpin()).toBe(PROBE_INTERVAL * 2);
    expect(sleepsBeforeSpin()).toBe(PROBE_INTERVAL * 4);
    let interval = PROBE_INTERVAL * 4;
    while (interval < MAX_PROBE_INTERVAL) {
      interval *= 2;
      expect(sleepsBeforeSpin()).toBe(interval);
    }
    expect(sleepsBeforeSpin()).toBe(MAX_PROBE_INTERVAL);
    // The peer moved to another CPU: the probe's spin succeeds.
    while (policy.next() === 0);
    policy.spun();
    expect(policy.futile).toBe(false);
    expect(policy.next()).toBe(100);
    failedWait(LONG_SPIN, 0.01);
    expect(sleepsBeforeSpin()).toBe(PROBE_INTERVAL);
  });

  it('a long sleep also ends the futile mode', () => {
    const { policy, failedWait } = harness(100);
    failedWait(LONG_SPIN, 0.01);
    expect(policy.futile).toBe(true);
    while (policy.next() === 0);
    policy.slept(100, 0, SHORT_SLEEP_MS * 2);
    expect(policy.futile).toBe(false);
  });

  it('setting the configured spin forgets what was learnt', () => {
    const { policy, failedWait } = harness(100);
    failedWait(LONG_SPIN, 0.01);
    expect(policy.futile).toBe(true);
    policy.base = 50;
    expect(policy.futile).toBe(false);
    expect(policy.next()).toBe(50);
  });
});
