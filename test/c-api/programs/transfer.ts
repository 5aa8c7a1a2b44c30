// Child program: every way JavaScript has to move an ArrayBuffer's memory elsewhere, tried on a segment's buffer.
// Prints "results <json>". Run with --expose-gc. Argument: a writable segment id of 4096 bytes or more.
import { MessageChannel } from 'node:worker_threads';
import { SHM_RDONLY, shmat, shmdt } from '../../../lib/index.js';

const id = Number(process.argv[2]);
const collect = async () => {
  for (let i = 0; i < 5; i++) {
    globalThis.gc!();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
const outcome = (attempt: () => unknown): string => {
  try {
    attempt();
    return 'done';
  } catch (error) {
    return (error as Error).name;
  }
};

let attachment: ReturnType<typeof shmat> | null = shmat(id);
const buffer = attachment.buffer;
const size = buffer.byteLength;

// Node >= 21 refuses to move an external buffer (DataCloneError); Node 20 copies it.
const { port1, port2 } = new MessageChannel();
const postMessage = outcome(() => port1.postMessage(buffer, [buffer]));
port1.close();
port2.close();
let cloneBytes = -1;
const structuredCloneOutcome = outcome(() => (cloneBytes = structuredClone(buffer, { transfer: [buffer] }).byteLength));

// The methods on the buffer itself are refused; where they exist at all (Node >= 21).
const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const methods = hasTransfer
  ? {
      transfer: outcome(() => (buffer as unknown as { transfer(): ArrayBuffer }).transfer()),
      transferToFixedLength: outcome(() => (buffer as unknown as { transferToFixedLength(): ArrayBuffer }).transferToFixedLength()),
    }
  : null;
const intact = buffer.byteLength === size;
new Uint8Array(buffer)[0] = 1;

// What still gets through: the method called on the prototype moves the memory into a buffer the library cannot
// see. Detaching and collecting the attachment must leave that buffer harmless (placeholder memory, never unmapped).
let moved: ArrayBuffer | null = null;
let movedByteLength = 0;
if (hasTransfer) {
  moved = (ArrayBuffer.prototype as unknown as { transfer: { call(b: ArrayBuffer): ArrayBuffer } }).transfer.call(buffer);
  movedByteLength = moved.byteLength;
}
shmdt(attachment);
attachment = null;
await collect();
let movedAfterDetach: number[] = [];
if (moved) {
  const view = new Uint8Array(moved);
  movedAfterDetach = [view[0], view[size - 1]];
  view.fill(7); // lands in the placeholder
}
// A read-only attachment never goes where a buffer was made: a write through the moved buffer would fault.
const readOnly = shmat(id, null, SHM_RDONLY);
if (moved) new Uint8Array(moved).fill(3);
shmdt(readOnly);
// The next writable attachments may go over the same range; the moved buffer still cannot fault.
const again = shmat(id);
const seen = again.read(0, 1)[0];
if (moved) new Uint8Array(moved).fill(9);
shmdt(again);
await collect();

// A web stream's BYOB read transfers the view's buffer internally (ArrayBuffer.prototype.transfer).
let byob = 'not available';
if (hasTransfer) {
  const source = new ReadableStream({
    type: 'bytes',
    pull(controller) {
      (controller.byobRequest!.view as Uint8Array).set([5, 6, 7], 0);
      controller.byobRequest!.respond(3);
    },
  });
  const reader = source.getReader({ mode: 'byob' });
  const target = shmat(id);
  let filled: Uint8Array | undefined;
  try {
    filled = (await reader.read(new Uint8Array(target.buffer, 0, 16))).value;
    byob = 'moved';
  } catch (error) {
    byob = (error as Error).name;
  }
  shmdt(target);
  await collect();
  if (filled) filled.fill(1);
}

console.log('results ' + JSON.stringify({ postMessage, structuredClone: structuredCloneOutcome, cloneBytes, methods, intact, movedByteLength, movedAfterDetach, seen, byob }));
