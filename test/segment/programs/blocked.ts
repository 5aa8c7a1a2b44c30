// Child program: makes a segment it removes on exit, then blocks in a synchronous wait of the library with no
// timeout: `wait` (wait() on a word nobody changes), `receive` (an empty channel whose producer is alive) or `send`
// (a full ring whose consumer is alive). Prints "made <id>" and "blocked <how>" (then blocks).
import { Channel, Segment, wait } from '../../../lib/index.js';

const how = process.argv[2];
const segment = Segment.create({ size: 4096 }).removeOnExit();
console.log(`made ${segment.id}`);
const attachment = segment.attach();
if (how === 'wait') {
  console.log('blocked wait');
  wait(attachment.view(Int32Array, 0, 1), 0, 0);
} else {
  const producer = Channel.create({ capacity: 64, spin: 0 });
  const consumer = Channel.open(producer.id, { spin: 0 });
  if (how === 'receive') {
    console.log('blocked receive');
    consumer.receive();
  } else {
    while (producer.trySend(new Uint8Array(8)));
    console.log('blocked send');
    producer.send(new Uint8Array(8));
  }
}
console.log('returned: the wait should not have ended');
