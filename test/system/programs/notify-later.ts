// Child program: after `delay` ms, sets word 0 of segment `id` to 1 and notifies it. Prints "done".
import { Segment, notify } from '../../../lib/index.js';

const [id, delay] = [Number(process.argv[2]), Number(process.argv[3])];
await new Promise((resolve) => setTimeout(resolve, delay));
const attachment = Segment.fromId(id).attach();
const word = attachment.view(Int32Array, 0, 1);
Atomics.store(word, 0, 1);
notify(word, 0);
attachment.detach();
console.log('done');
