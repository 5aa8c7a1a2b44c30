// What SemaphoreSet.lock() hands out: one unit of a semaphore, taken with SEM_UNDO, given back once by release()
// or by `using`'s dispose (and by the kernel if the process dies first).

export class SemaphoreLock implements Disposable {
  /** The semaphore set's id and the semaphore's index. */
  readonly semid: number;
  readonly index: number;
  readonly #giveBack: () => void;
  #released = false;

  /** @internal Made by SemaphoreSet.lock(); `giveBack` is its semop +1 with SEM_UNDO. */
  constructor(semid: number, index: number, giveBack: () => void) {
    this.semid = semid;
    this.index = index;
    this.#giveBack = giveBack;
  }

  /** Whether release() (or dispose) gave it back. */
  get released(): boolean {
    return this.#released;
  }

  /** Gives the semaphore back; a second call does nothing (as FileHandle.close()). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#giveBack();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
