// js-bare: the floor for JavaScript. The protocol of bench/c/pingpong.c (the C floor, transport c-bare) in plain
// JavaScript over one segment, without the channel: a lane per direction, each a sequence word and the message
// length on one cache line and the payload from another; the sender copies the payload in and stores the
// sequence number (Atomics.store), the receiver spins on it (Atomics.load) and copies the payload out. Short
// messages (up to 256 bytes) are copied as 32-bit words, longer ones with TypedArray.prototype.set, as the
// channel's receiveInto does. One message in flight per direction, spinning only: ping-pong only. What the
// channel adds to a round trip is the difference between `shm spin` and this.
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, shmat, shmctl, shmdt, shmget } from '../../lib/index.js';
import { readFileSync } from 'node:fs';
import type { DriverContext, Link, PeerContext, Rx, Tx, TransportModule } from './types.js';

// Byte offsets in a lane (as in bench/c/pingpong.c).
const LANE_SEQ = 0;
const LANE_LENGTH = 4;
const LANE_PAYLOAD = 256;
const WORD_COPY_MAX = 256;

function laneBytes(size: number): number {
  return LANE_PAYLOAD + ((size + 127) & ~127);
}

/** Whether `pid` runs (a zombie, which a blocked parent has not reaped, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZXx]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Copies `n` bytes between two byte views, as 32-bit words through cached Int32Array views when short and aligned. */
class Copier {
  #source: Uint8Array | null = null;
  #words: Int32Array = new Int32Array(0);
  wordsOf(bytes: Uint8Array): Int32Array | null {
    if ((bytes.byteOffset & 3) !== 0) return null;
    if (bytes !== this.#source) {
      this.#words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
      this.#source = bytes;
    }
    return this.#words;
  }
}

class Lane {
  readonly i32: Int32Array;
  readonly payload: Uint8Array;
  readonly payloadWords: Int32Array;
  count = 0;
  constructor(buffer: ArrayBuffer, offset: number, size: number) {
    this.i32 = new Int32Array(buffer, offset, LANE_PAYLOAD / 4);
    this.payload = new Uint8Array(buffer, offset + LANE_PAYLOAD, size);
    this.payloadWords = new Int32Array(buffer, offset + LANE_PAYLOAD, size >> 2);
  }
}

class BareTx implements Tx {
  readonly #copier = new Copier();
  constructor(private readonly lane: Lane) {}
  send(bytes: Uint8Array): void {
    const lane = this.lane;
    const n = bytes.length;
    if (n > lane.payload.length) throw new RangeError(`js-bare: a message of ${n} bytes does not fit the lane (${lane.payload.length})`);
    const words = n <= WORD_COPY_MAX ? this.#copier.wordsOf(bytes) : null;
    if (words) {
      const to = lane.payloadWords;
      const whole = n >> 2;
      for (let k = 0; k < whole; k++) to[k] = words[k];
      for (let k = whole << 2; k < n; k++) lane.payload[k] = bytes[k];
    } else {
      lane.payload.set(bytes);
    }
    lane.i32[LANE_LENGTH >> 2] = n;
    lane.count = (lane.count + 1) | 0;
    Atomics.store(lane.i32, LANE_SEQ >> 2, lane.count);
  }
}

class BareRx implements Rx {
  #target = new Uint8Array(0);
  #targetWords = new Int32Array(0);
  constructor(
    private readonly lane: Lane,
    private readonly peerPid: number,
  ) {}
  receive(size: number): Uint8Array {
    const lane = this.lane;
    const expected = (lane.count + 1) | 0;
    const i32 = lane.i32;
    for (let i = 1; Atomics.load(i32, LANE_SEQ >> 2) !== expected; i++) {
      if ((i & 0xfffff) === 0 && !alive(this.peerPid)) throw new Error(`js-bare: the other end (pid ${this.peerPid}) is gone`);
    }
    const n = i32[LANE_LENGTH >> 2];
    if (n < 0 || n > lane.payload.length) throw new Error(`js-bare: a message of ${n} bytes does not fit the lane`);
    if (this.#target.length < size) {
      this.#target = new Uint8Array(size);
      this.#targetWords = new Int32Array(this.#target.buffer, 0, size >> 2);
    }
    const target = this.#target;
    if (n <= WORD_COPY_MAX) {
      const from = lane.payloadWords;
      const to = this.#targetWords;
      const whole = n >> 2;
      for (let k = 0; k < whole; k++) to[k] = from[k];
      for (let k = whole << 2; k < n; k++) target[k] = lane.payload[k];
    } else {
      target.set(lane.payload.subarray(0, n));
    }
    lane.count = expected;
    return n === target.length ? target : target.subarray(0, n);
  }
  release(): void {}
}

function link(buffer: ArrayBuffer, size: number, driver: boolean, peerPid: number, close: () => void): Link {
  const down = new Lane(buffer, 0, size);
  const up = new Lane(buffer, laneBytes(size), size);
  return {
    tx: new BareTx(driver ? down : up),
    rx: new BareRx(driver ? up : down, peerPid),
    detail: 'SysV segment, a sequence word and a payload slot per direction, Atomics.store/load spinning, no channel',
    close,
  };
}

export const bare: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const size = Math.max(...ctx.spec.sizes);
    const id = shmget(IPC_PRIVATE, 2 * laneBytes(size), IPC_CREAT | 0o600);
    let attachment: ReturnType<typeof shmat>;
    try {
      attachment = shmat(id);
    } finally {
      shmctl(id, IPC_RMID); // the peer attaches it by id while we are attached
    }
    try {
      const child = ctx.spawnPeer({ stdio: ['ignore', 'ignore', 'inherit', 'pipe'], extra: { id, size } });
      await ctx.peerLine();
      return link(attachment.buffer, size, true, child.pid!, () => shmdt(attachment));
    } catch (error) {
      shmdt(attachment);
      throw error;
    }
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    const attachment = shmat(Number(ctx.extra.id));
    ctx.tell('ready');
    return link(attachment.buffer, Number(ctx.extra.size), false, process.ppid, () => shmdt(attachment));
  },
};
