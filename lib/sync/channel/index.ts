// A single-producer, single-consumer message channel over one System V segment, between two processes, as parts:
//
//   end.ts       Channel: the base of both ends, Channel.create / Channel.open
//   producer.ts  Producer (send, trySend, sendAsync, reserve + commit): the call checks; sender.ts: its ring part
//   consumer.ts  Consumer (receive, tryReceive, receiveInto, receiveAsync, peek + release, for await): the call
//                checks; receiver.ts: its ring part
//   header.ts    one end's view of the shared words: typed accessors, each word read once and checked (EPROTO)
//   open.ts      the header written at creation, and checked word by word at open
//   waiter.ts    spin, then sleep on a futex (sync) or this thread's doorbell (async), for either end
//   liveness.ts  the peer's identity in the header and whether its process runs
//   arguments.ts argument checks and misuse errors
//
// Layout and framing: ring-layout.ts and docs/channel.md.
import { Consumer } from './consumer.js';
import { provideEnds } from './end.js';
import { createChannel, openChannel } from './open.js';
import { Producer } from './producer.js';

provideEnds({
  create: (options) => new Producer(createChannel(options)),
  open: (id, options) => new Consumer(openChannel(id, options)),
});

export { Channel, DEFAULT_SPIN, type ChannelCreateOptions, type ChannelOpenOptions } from './end.js';
export { Producer } from './producer.js';
export { Consumer } from './consumer.js';
export type { TimeoutOptions, AsyncOptions } from './arguments.js';
export type { ProducerWritableOptions, ConsumerReadableOptions } from './streams.js';
export { SLICE_MS } from './waiter.js';
