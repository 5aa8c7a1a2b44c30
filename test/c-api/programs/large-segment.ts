// Child program: a segment of 5 GiB (SHM_NORESERVE, pages never touched but a few) used at offsets beyond 4 GiB,
// through whole buffers where this Node can make them and windows everywhere. Argument: the segment id.
// Prints "results <json>".
import { constants } from 'node:buffer';
import { Segment, notify, shmat, shmdt, wait } from '../../../lib/index.js';

const id = Number(process.argv[2]);
const outcome = (attempt: () => unknown): string => {
  try {
    const value = attempt();
    return `ok ${typeof value === 'number' ? value : ''}`.trim();
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
};
const high = 2 ** 32 + 4096 * 3 + 8; // past 4 GiB

// The C layer: the whole buffer where this Node can make one, windows anywhere.
const raw = shmat(id);
const whole = outcome(() => raw.buffer.byteLength);
const window = raw.window(high, 16);
new Uint8Array(window).set([1, 2, 3]);
const rawBack = [...raw.read(high, 3)];
shmdt(raw);
const windowAfterDetach = [...new Uint8Array(window, 0, 3)]; // placeholder memory: zeros, no fault

// The friendly layer.
const attachment = Segment.fromId(id).attach();
const bytes = outcome(() => attachment.bytes.length);
const dataView = outcome(() => attachment.dataView.byteLength);
const nodeBuffer = outcome(() => attachment.nodeBuffer.length);
const view = attachment.view(Uint8Array, high, 16);
const words = attachment.view(Int32Array, attachment.size - 16, 4);
Atomics.add(words, 3, 7);
attachment.write('past four GiB', high + 100);
attachment.fill(0xab, high + 200, 8);
const results = {
  node: process.versions.node,
  maxLength: constants.MAX_LENGTH,
  size: attachment.size,
  whole,
  bytes,
  dataView,
  nodeBuffer,
  rawBack,
  windowAfterDetach,
  view: [...view.subarray(0, 3)],
  lastWord: Atomics.load(words, 3),
  string: attachment.readString(high + 100),
  filled: [...attachment.read(high + 199, 10)],
  // futex words in a window: addressed in the segment, not in the window.
  notified: notify(words, 3),
  waited: wait(words, 3, 7, 0),
};
attachment.detach();
console.log('results ' + JSON.stringify(results));
