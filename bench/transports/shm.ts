// shm: the project's channel (Channel.create/open from the package entry), one channel per direction. Copy mode:
// send() / receiveInto(); copy-alloc: send() / receive() (a new buffer per message); zero-copy mode:
// reserve()/commit() and peek()/release(). The async wait: both ends use the calls that never block the event loop,
// sendAsync() and receiveAsync() (each message a new buffer), the throughput consumer through `for await`. The
// channels are sized for each message size (capacityFor) and renegotiated through the old channels when the size
// needs a different ring.
import { Channel } from '../../lib/index.js';
import { futexCallCounts } from '../../lib/internal.js';
import { capacityFor } from './capacity.js';
import type { Link, Mode, MaybePromise, PatternName, PeerContext, DriverContext, Rx, Tx, TransportModule, WaitStrategy } from './types.js';

/** The producer end (what Channel.create returns) and the consumer end (what Channel.open returns). */
type Producer = ReturnType<typeof Channel.create>;
type Consumer = ReturnType<typeof Channel.open>;

/**
 * Spin iterations for each wait strategy: spin never sleeps, futex sleeps at once, hybrid is the channel's default.
 * async: the channel's default too; it matters only for the synchronous control messages between sizes (the async
 * calls never spin).
 */
export function spinFor(wait: WaitStrategy): number | undefined {
  if (wait === 'spin') return 2_000_000_000;
  if (wait === 'futex') return 0;
  return undefined;
}

const CTRL = 32;

class ShmTx implements Tx {
  constructor(public channel: Producer) {}
  send(bytes: Uint8Array): void {
    this.channel.send(bytes);
  }
  reserve(n: number): Uint8Array {
    return this.channel.reserve(n);
  }
  commit(): void {
    this.channel.commit();
  }
}

class ShmRx implements Rx {
  #target = new Uint8Array(0);
  constructor(
    public channel: Consumer,
    private readonly mode: Mode,
  ) {}
  receive(size: number): Uint8Array {
    if (this.mode === 'zero-copy') return this.channel.peek()!;
    if (this.mode === 'copy-alloc') return this.channel.receive()!;
    if (this.#target.length < size) this.#target = new Uint8Array(size);
    const target = this.#target;
    const n = this.channel.receiveInto(target)!;
    return n === target.length ? target : target.subarray(0, n);
  }
  release(): void {
    if (this.mode === 'zero-copy') this.channel.release();
  }
}

/** Async: every send is a sendAsync() whose promise the pattern awaits (it resolves at once while there is room). */
class ShmAsyncTx implements Tx {
  constructor(public channel: Producer) {}
  send(bytes: Uint8Array): Promise<void> {
    return this.channel.sendAsync(bytes);
  }
}

/**
 * Async: receiveAsync() (a new buffer per message), or `for await` over the consumer (one iterator per channel:
 * a size that needs a new ring gets a new channel). Without a timeout receiveAsync() never resolves with null.
 */
class ShmAsyncRx implements Rx {
  #iterator: AsyncIterator<Uint8Array> | null = null;
  #iterated: Consumer | null = null;
  constructor(
    public channel: Consumer,
    private readonly iterate: boolean,
  ) {}
  receive(): Promise<Uint8Array> {
    if (!this.iterate) return this.channel.receiveAsync() as Promise<Uint8Array>;
    if (this.#iterated !== this.channel) {
      this.#iterated = this.channel;
      this.#iterator = this.channel[Symbol.asyncIterator]();
    }
    return this.#iterator!.next().then(messageOf);
  }
  release(): void {}
}

function messageOf(r: IteratorResult<Uint8Array>): Uint8Array {
  if (r.done) throw new Error('shm: for await ended: the producer closed its end');
  return r.value;
}

const API: Record<Mode, string> = {
  copy: 'send/receiveInto',
  'copy-alloc': 'send/receive (a new buffer per message)',
  'zero-copy': 'reserve/commit + peek/release, every byte written and read in place',
};

function options(capacity: number, spin: number | undefined): { capacity: number; spin?: number } {
  return spin === undefined ? { capacity } : { capacity, spin };
}

function openOptions(spin: number | undefined): { spin?: number } {
  return spin === undefined ? {} : { spin };
}

/**
 * What each end calls in async mode: sendAsync() on both; the driver receives with receiveAsync() (the echo, the
 * acknowledgement), the peer with receiveAsync() in ping-pong and `for await` in throughput.
 */
function asyncApi(pattern: PatternName): string {
  return pattern === 'throughput'
    ? 'async: sendAsync (driver) / for await (peer), receiveAsync for the acknowledgement'
    : 'async: sendAsync/receiveAsync on both ends';
}

interface Ends {
  tx: ShmTx | ShmAsyncTx;
  rx: ShmRx | ShmAsyncRx;
}

function ends(out: Producer, inbound: Consumer, mode: Mode, wait: WaitStrategy, pattern: PatternName, role: 'driver' | 'peer'): Ends {
  if (wait !== 'async') return { tx: new ShmTx(out), rx: new ShmRx(inbound, mode) };
  return { tx: new ShmAsyncTx(out), rx: new ShmAsyncRx(inbound, pattern === 'throughput' && role === 'peer') };
}

function makeLink(
  out: Producer,
  inbound: Consumer,
  spec: { mode: Mode; wait: WaitStrategy; pattern: PatternName },
  spin: number | undefined,
  role: 'driver' | 'peer',
  initialSize: number,
): Link {
  const { mode, wait, pattern } = spec;
  const { tx, rx } = ends(out, inbound, mode, wait, pattern, role);
  let capacity = capacityFor(initialSize);
  const ctrl = new Uint8Array(CTRL);
  const readCtrl = (from: Consumer): number => {
    const n = from.receiveInto(ctrl);
    if (n !== CTRL) throw new Error('shm: expected a control message');
    return new DataView(ctrl.buffer).getInt32(0, true);
  };
  const writeCtrl = (to: Producer, id: number) => {
    new DataView(ctrl.buffer).setInt32(0, id, true);
    to.send(ctrl);
  };
  return {
    tx,
    rx,
    futexCalls: () => {
      const c = futexCallCounts();
      return c.wait + c.wake;
    },
    detail: `SysV segment, Channel, ${wait === 'async' ? asyncApi(pattern) : API[mode]}`,
    prepare(size: number): MaybePromise<void> {
      const need = capacityFor(size);
      if (need === capacity) return;
      capacity = need;
      const oldOut = out;
      const oldIn = inbound;
      if (role === 'driver') {
        out = Channel.create(options(need, spin));
        writeCtrl(oldOut, out.id);
        inbound = Channel.open(readCtrl(oldIn), openOptions(spin));
      } else {
        inbound = Channel.open(readCtrl(oldIn), openOptions(spin));
        out = Channel.create(options(need, spin));
        writeCtrl(oldOut, out.id);
      }
      oldOut.close();
      oldIn.close();
      tx.channel = out;
      rx.channel = inbound;
    },
    close() {
      out.close();
      inbound.close();
    },
  };
}

export const shm: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const { spec } = ctx;
    const spin = spinFor(spec.wait);
    const out = Channel.create(options(capacityFor(spec.sizes[0]), spin));
    try {
      ctx.spawnPeer({ stdio: ['ignore', 'ignore', 'inherit', 'pipe'], extra: { id: out.id } });
      const back = Channel.open(Number(await ctx.peerLine()), openOptions(spin));
      return makeLink(out, back, spec, spin, 'driver', spec.sizes[0]);
    } catch (error) {
      out.close();
      throw error;
    }
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    const { spec } = ctx;
    const spin = spinFor(spec.wait);
    const inbound = Channel.open(Number(ctx.extra.id), openOptions(spin));
    const out = Channel.create(options(capacityFor(spec.sizes[0]), spin));
    ctx.tell(String(out.id));
    return makeLink(out, inbound, spec, spin, 'peer', spec.sizes[0]);
  },
};
