// A deadline as an unref'd timer: setTimeout takes at most 2^31 - 1 ms (longer delays fire after 1 ms, with a
// TimeoutOverflowWarning), so a later deadline is reached through a chain of timers.

/** setTimeout's limit. */
const MAX_TIMER_MS = 0x7fffffff;

/** Calls `onDeadline` once `deadline` (performance.now() time) has passed; unref'd; cancel() stops it. */
export class DeadlineTimer {
  readonly #deadline: number;
  readonly #onDeadline: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(deadline: number, onDeadline: () => void) {
    this.#deadline = deadline;
    this.#onDeadline = onDeadline;
    this.#arm();
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    const left = this.#deadline - performance.now();
    if (left <= 0) {
      this.#timer = undefined;
      this.#onDeadline();
      return;
    }
    this.#timer = setTimeout(() => this.#arm(), Math.min(Math.ceil(left), MAX_TIMER_MS));
    this.#timer.unref();
  }
}
