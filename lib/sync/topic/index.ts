// A topic: one publisher, many subscribers, over one System V segment holding one ring that every subscriber reads
// in place (docs/topic.md). Made of the channel's parts (Header, Receiver, Waiter, Cell, Liveness, SpinPolicy):
//
//   topic.ts       Topic: the base of both ends, Topic.create / Topic.subscribe
//   publisher.ts   Publisher (publish, tryPublish, publishAsync, subscribers): the call checks
//   writer.ts      its ring part: room behind the slowest subscriber ('block') or overwriting ('drop')
//   roster.ts      its view of the subscriber slots: joins, cursors, liveness, wake-ups
//   subscriber.ts  Subscriber (receive, tryReceive, receiveInto, async, peek + release, for await, lost)
//   reader.ts      its joining and waiting; rings.ts: reading the ring under each policy
//   open.ts        the header written at creation, checked word by word at subscribe; a slot claimed
//   slots.ts       the Sides and placements of the shared words, and freeing a slot
//   layout.ts      offsets and constants
import { createTopic, subscribeTopic } from './open.js';
import { Publisher } from './publisher.js';
import { Subscriber } from './subscriber.js';
import { provideTopicEnds } from './topic.js';

provideTopicEnds({
  create: (options) => new Publisher(createTopic(options)),
  subscribe: (id, options) => new Subscriber(subscribeTopic(id, options)),
});

export { Topic } from './topic.js';
export { Publisher } from './publisher.js';
export { Subscriber } from './subscriber.js';
export type { TopicCreateOptions, TopicSubscribeOptions, TopicPolicy } from './open.js';
