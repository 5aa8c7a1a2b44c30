// Child program: flips the length word at ring offset 0 of whichever channel the control segment names (see
// flip-consumer.ts) between 64 MiB and 56, as fast as it can, until the control word is -1. Prints "flipping" when
// it starts and "flips <n>" at the end.
// Argument: the control segment's id.
import { shmat, shmdt, type Attachment } from '../../../lib/index.js';
import { L } from './hostile.js';

const control = new Int32Array(shmat(Number(process.argv[2])).buffer);
const LENGTH = L.DATA_OFFSET / 4;
let current = 0;
let attachment: Attachment | undefined;
let words = new Uint32Array(0);
let flips = 0;
console.log('flipping');
for (;;) {
  const id = Atomics.load(control, 0);
  if (id === -1) break;
  if (id !== current) {
    if (attachment) shmdt(attachment);
    attachment = undefined;
    current = id;
    try {
      attachment = shmat(id);
      words = new Uint32Array(attachment.buffer);
    } catch {
      continue; // closed meanwhile
    }
  }
  if (!attachment) continue;
  for (let i = 0; i < 2000; i++) {
    words[LENGTH] = 0x04000000;
    for (let k = 0; k < (i & 3); k++) words[LENGTH] = 0x04000000; // uneven timing
    words[LENGTH] = 56;
    for (let k = 0; k < (i & 3); k++) words[LENGTH] = 56;
  }
  flips += 2000;
}
console.log(`flips ${flips}`);
