// In-process references: how fast this machine copies memory (Buffer.copy between two buffers of the message
// size), i.e. the ceiling for a transport that copies each byte once; and the per-call costs of the C-shaped
// layer (bench/call-costs.ts).
import { median } from './patterns/common.js';

export interface CopyBaseline {
  messageSize: number;
  bytesPerSec: number;
}

/** Buffer.copy of `size` bytes, repeated for about `seconds` per batch; median bytes/s over `batches`. */
export function measureBufferCopy(size: number, seconds = 0.02, batches = 5): number {
  const src = Buffer.alloc(size, 0x5a);
  const dst = Buffer.alloc(size); // touched: no page faults in the timed loop
  let perBatch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) src.copy(dst);
    const ms = performance.now() - t0;
    if (ms >= seconds * 250 || perBatch > 1e8) {
      perBatch = Math.max(1, Math.ceil((perBatch * seconds * 1000) / Math.max(ms, 1e-3)));
      break;
    }
    perBatch *= 4;
  }
  const rates: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) src.copy(dst);
    rates.push((perBatch * size) / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}
