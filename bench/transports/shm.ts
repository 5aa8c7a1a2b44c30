// shm: the project's channel (lib/sync/channel.ts), one channel per direction. Copy mode: send() / receiveInto();
// zero-copy mode: reserve()/commit() and peek()/release(). The channels are sized for each message size
// (capacityFor) and renegotiated through the old channels when the size needs a different ring.
import { capacityFor } from './capacity.js';
import { futexCallCounts as futexCalls } from '../../lib/sync/futex.js';
import type { Link, Mode, MaybePromise, PeerContext, DriverContext, Rx, Tx, TransportModule, WaitStrategy } from './types.js';

type ChannelModule = typeof import('../../lib/sync/channel.js');
type Channel = InstanceType<ChannelModule['Channel']>;

let channelModule: ChannelModule | undefined;
let channelProblem: string | undefined;

/** Loads the channel; throws a clear "channel not available" error when it cannot be used. */
export async function loadChannel(): Promise<ChannelModule> {
  if (channelModule) return channelModule;
  if (channelProblem) throw new Error(channelProblem);
  try {
    const mod = (await import('../../lib/sync/channel.js')) as ChannelModule;
    if (typeof mod.Channel?.create !== 'function' || typeof mod.Channel?.open !== 'function') throw new Error('lib/sync/channel.ts exports no Channel.create/open');
    channelModule = mod;
    return mod;
  } catch (error) {
    channelProblem = `shm transport: channel not available (lib/sync/channel.ts cannot be used: ${(error as Error).message})`;
    throw new Error(channelProblem);
  }
}

/** Spin iterations for each wait strategy: spin never sleeps, futex sleeps at once, hybrid is the channel's default. */
export function spinFor(wait: WaitStrategy, mod: ChannelModule): number {
  if (wait === 'spin') return 2_000_000_000;
  if (wait === 'futex') return 0;
  return mod.DEFAULT_SPIN;
}


const CTRL = 32;

class ShmTx implements Tx {
  constructor(public channel: Channel) {}
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
    public channel: Channel,
    private readonly mode: Mode,
  ) {}
  receive(size: number): Uint8Array {
    if (this.mode === 'zero-copy') return this.channel.peek()!;
    if (this.#target.length < size) this.#target = new Uint8Array(size);
    const n = this.channel.receiveInto(this.#target)!;
    return this.#target.subarray(0, n);
  }
  release(): void {
    if (this.mode === 'zero-copy') this.channel.release();
  }
}

function makeLink(mod: ChannelModule, out: Channel, inbound: Channel, mode: Mode, spin: number, role: 'driver' | 'peer', initialSize: number): Link {
  const tx = new ShmTx(out);
  const rx = new ShmRx(inbound, mode);
  let capacity = capacityFor(initialSize);
  const ctrl = new Uint8Array(CTRL);
  const readCtrl = (from: Channel): number => {
    const n = from.receiveInto(ctrl);
    if (n !== CTRL) throw new Error('shm: expected a control message');
    return new DataView(ctrl.buffer).getInt32(0, true);
  };
  const writeCtrl = (to: Channel, id: number) => {
    new DataView(ctrl.buffer).setInt32(0, id, true);
    to.send(ctrl);
  };
  return {
    tx,
    rx,
    futexCalls: () => {
      const c = futexCalls();
      return c.wait + c.wake;
    },
    detail: `SysV segment, lib/sync/channel.ts, ${mode === 'copy' ? 'send/receiveInto' : 'reserve/commit + peek/release'}`,
    prepare(size: number): MaybePromise<void> {
      const need = capacityFor(size);
      if (need === capacity) return;
      capacity = need;
      const oldOut = out;
      const oldIn = inbound;
      if (role === 'driver') {
        out = mod.Channel.create({ capacity: need, spin });
        writeCtrl(oldOut, out.id);
        inbound = mod.Channel.open(readCtrl(oldIn), { spin });
      } else {
        inbound = mod.Channel.open(readCtrl(oldIn), { spin });
        out = mod.Channel.create({ capacity: need, spin });
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
    const mod = await loadChannel();
    const { spec } = ctx;
    const spin = spinFor(spec.wait, mod);
    const out = mod.Channel.create({ capacity: capacityFor(spec.sizes[0]), spin });
    try {
      ctx.spawnPeer({ stdio: ['ignore', 'ignore', 'inherit', 'pipe'], extra: { id: out.id } });
      const back = mod.Channel.open(Number(await ctx.peerLine()), { spin });
      return makeLink(mod, out, back, spec.mode, spin, 'driver', spec.sizes[0]);
    } catch (error) {
      out.close();
      throw error;
    }
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    const mod = await loadChannel();
    const { spec } = ctx;
    const spin = spinFor(spec.wait, mod);
    const inbound = mod.Channel.open(Number(ctx.extra.id), { spin });
    const out = mod.Channel.create({ capacity: capacityFor(spec.sizes[0]), spin });
    ctx.tell(String(out.id));
    return makeLink(mod, out, inbound, spec.mode, spin, 'peer', spec.sizes[0]);
  },
};
