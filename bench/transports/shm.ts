// shm: the project's channel (Channel.create/open from the package entry), one channel per direction. Copy mode:
// send() / receiveInto(); copy-alloc: send() / receive() (a new buffer per message); zero-copy mode:
// reserve()/commit() and peek()/release(). The channels are sized for each message size (capacityFor) and
// renegotiated through the old channels when the size needs a different ring.
import { Channel } from '../../lib/index.js';
import { futexCallCounts } from '../../lib/internal.js';
import { capacityFor } from './capacity.js';
import type { Link, Mode, MaybePromise, PeerContext, DriverContext, Rx, Tx, TransportModule, WaitStrategy } from './types.js';

/** The producer end (what Channel.create returns) and the consumer end (what Channel.open returns). */
type Producer = ReturnType<typeof Channel.create>;
type Consumer = ReturnType<typeof Channel.open>;

/** Spin iterations for each wait strategy: spin never sleeps, futex sleeps at once, hybrid is the channel's default. */
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

function makeLink(out: Producer, inbound: Consumer, mode: Mode, spin: number | undefined, role: 'driver' | 'peer', initialSize: number): Link {
  const tx = new ShmTx(out);
  const rx = new ShmRx(inbound, mode);
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
    detail: `SysV segment, Channel, ${API[mode]}`,
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
      return makeLink(out, back, spec.mode, spin, 'driver', spec.sizes[0]);
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
    return makeLink(out, inbound, spec.mode, spin, 'peer', spec.sizes[0]);
  },
};
