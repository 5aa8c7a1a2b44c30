// How long a channel end spins before it sleeps in the kernel, learnt from how its waits end.
//
// Spinning pays when the peer runs on another CPU and answers soon: the answer is seen without a futex call on
// either side. It is pure loss when the peer shares our CPU (pinned together, a one-CPU container, an overloaded
// machine): the peer cannot run until we stop, so every spin fails and then the sleep is short. The two cases
// look alike after one wait and differ after a few:
//  - a spin fails and the sleep after it is short: the peer was about to answer, so spin twice as long next time;
//  - a spin that already lasted MAX_SPIN_MS still fails with a short sleep: a longer spin would not have helped,
//    so sleep at once for the next PROBE_INTERVAL waits, then learn again from the configured spin (a probe);
//    each probe that ends the same way doubles the interval (up to MAX_PROBE_INTERVAL), so that a peer that
//    shares our CPU for good costs next to nothing, while a spin that succeeds starts over;
//  - a sleep is long: the peer is really idle, so halve the budget back toward the configured spin.
// The configured spin is honoured as given; only the growth beyond it is bounded in time, because what an
// iteration costs differs several times between machines (and between optimized and unoptimized code).

/** A sleep shorter than this means the peer answered soon after the spin gave up. */
export const SHORT_SLEEP_MS = 0.5;
/**
 * The longest a learnt (grown) spin lasts. It must stay well below SHORT_SLEEP_MS: when the peer shares our
 * CPU, our sleep lasts as long as the peer spins, and a peer spinning longer than SHORT_SLEEP_MS would make
 * futile spins look like an idle peer.
 */
export const MAX_SPIN_MS = 0.2;
/** The spin loops read the clock once per this many iterations (a power of two), only after the first of them. */
export const SPIN_CHECK_EVERY = 1024;
/** Upper bound of the grown budget in iterations (the time bound normally ends a spin long before). */
const MAX_BUDGET = 1 << 24;
/** Waits that sleep at once after spinning was found futile, before spinning is tried again. */
export const PROBE_INTERVAL = 256;
export const MAX_PROBE_INTERVAL = 1 << 16;

export class SpinPolicy {
  #base: number;
  #budget: number;
  /** Set when even the longest spin failed: sleep at once until #sleepFirst runs out, then probe. */
  #futile = false;
  #sleepFirst = 0;
  #probeInterval = PROBE_INTERVAL;
  /** Clock at the first check of the current spin (-1: not read yet). */
  #spinStart = -1;

  readonly #clock: () => number;

  /** `base`: the configured spin in iterations (0 = always sleep at once, never adapted); `clock` for tests. */
  constructor(base: number, clock: () => number = () => performance.now()) {
    this.#base = base;
    this.#budget = base;
    this.#clock = clock;
  }

  /** The configured spin; setting it forgets what was learnt. */
  get base(): number {
    return this.#base;
  }
  set base(value: number) {
    this.#base = value;
    this.#budget = value;
    this.#futile = false;
    this.#sleepFirst = 0;
    this.#probeInterval = PROBE_INTERVAL;
  }

  /** True while waits sleep at once because spinning was found futile. */
  get futile(): boolean {
    return this.#futile;
  }

  /** Spin iterations for the wait that starts now (0: sleep at once). */
  next(): number {
    this.#spinStart = -1;
    if (this.#sleepFirst > 0) {
      this.#sleepFirst--;
      return 0;
    }
    return this.#budget;
  }

  /** Called by a spin loop every SPIN_CHECK_EVERY iterations: false when a grown spin has lasted long enough. */
  keepSpinning(): boolean {
    const now = this.#clock();
    if (this.#spinStart < 0) {
      this.#spinStart = now;
      return true;
    }
    return this.#budget <= this.#base || now - this.#spinStart < MAX_SPIN_MS;
  }

  /** The wait ended during its spin. */
  spun(): void {
    if (this.#futile) {
      this.#futile = false;
      this.#probeInterval = PROBE_INTERVAL;
    }
  }

  /**
   * The wait spun `budget` iterations (or until the time bound) without success; the spin ended at `spinEnd`
   * (performance.now()) and the sleep after it lasted `sleptMs`.
   */
  slept(budget: number, spinEnd: number, sleptMs: number): void {
    if (budget === 0) return; // slept at once: nothing learnt about spinning
    if (sleptMs >= SHORT_SLEEP_MS) {
      this.#futile = false;
      this.#probeInterval = PROBE_INTERVAL;
      this.#budget = Math.max(this.#base, this.#budget >> 1);
      return;
    }
    const spinMs = this.#spinStart < 0 ? 0 : spinEnd - this.#spinStart;
    const maxBudget = Math.max(MAX_BUDGET, this.#base);
    if (spinMs >= MAX_SPIN_MS || this.#budget >= maxBudget) {
      // The longest spin failed too: stop spinning for a while (longer each time this repeats).
      this.#probeInterval = this.#futile ? Math.min(this.#probeInterval * 2, MAX_PROBE_INTERVAL) : PROBE_INTERVAL;
      this.#futile = true;
      this.#sleepFirst = this.#probeInterval;
      this.#budget = this.#base;
      return;
    }
    this.#budget = Math.min(this.#budget * 2, maxBudget);
  }
}
