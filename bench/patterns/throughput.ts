// Throughput: a one-way stream of messages of one size from the driver to the peer. Per size: one verification
// repetition (every byte checksummed on both sides), one warm-up repetition that also calibrates the count, then
// `repeat` timed repetitions of about `repSeconds` each. A repetition runs from the driver's first send to the
// peer's receipt of the last message (both read CLOCK_MONOTONIC); the peer's acknowledgement carries that time,
// what it counted, its checksum and the first problem it saw.
//
// Copy mode: the message exists in the producer's buffer (only its stamps change); send() copies it into the
// transport and the consumer copies it out (receiveInto, readSync, stream chunks): two copies, each touching
// every byte. Zero-copy mode (shm, c-ring): the producer writes every byte of the message into the reserved ring
// space (one pass, as building a message in place would) and the consumer reads every byte where it lies
// (peek, a memcmp against what the producer wrote, release). In every mode the consumer checks the stamps of
// every message, and every byte is checksummed in the verification repetition. bench/c/harness.h does the same
// in C.
import {
  ACK_SIZE,
  CHECKSUM_MISMATCH,
  CHECKSUM_SEED,
  FULL_VERIFY,
  InPlaceReader,
  IntegrityError,
  PAYLOAD_DIFFERS,
  STAMP_OK,
  basePattern,
  checkStamps,
  checksum,
  decodeAck,
  describeProblem,
  encodeAck,
  stamp,
  type Header,
} from './payload.js';
import { clamp, median, resultRecord, type BenchResult } from './common.js';
import type { Link, SessionSpec } from '../transports/types.js';

const VERIFY_BYTES = 8 * 2 ** 20;

export function verifyCount(size: number): number {
  return clamp(Math.ceil(VERIFY_BYTES / size), 4, 20_000);
}

export async function driveThroughput(link: Link, spec: SessionSpec, emit: (r: BenchResult) => void): Promise<void> {
  const { tx, rx } = link;
  for (const size of spec.sizes) {
    const p = link.prepare?.(size);
    if (p) await p;
    const zeroCopy = spec.mode === 'zero-copy';
    if (zeroCopy && !(tx.reserve && tx.commit)) throw new Error(`${spec.transport} has no zero-copy mode`);
    const base = basePattern(size);
    const own = base.slice();
    let count = verifyCount(size);
    let timedCount = 0;
    const rates: number[] = [];
    let futex0 = 0;
    let timedMessages = 0;
    for (let rep = 0; rep < spec.repeat + 2; rep++) {
      if (rep === 2) futex0 = link.futexCalls?.() ?? 0;
      const full = rep === 0;
      const flags = full ? FULL_VERIFY : 0;
      let h = CHECKSUM_SEED;
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        if (zeroCopy) {
          const view = tx.reserve!(size);
          // A zero-copy producer builds its message in place, so it writes every byte of it (here: a copy of the
          // base pattern, one pass over the message); copy mode's message already exists in its own buffer.
          view.set(base);
          stamp(view, i, count - 1 - i, flags, rep);
          if (full) h = checksum(h, view);
          tx.commit!();
        } else {
          stamp(own, i, count - 1 - i, flags, rep);
          if (full) h = checksum(h, own);
          const sent = tx.send(own);
          if (sent) await sent;
        }
      }
      let answer = rx.receive(ACK_SIZE);
      if (answer instanceof Promise) answer = await answer;
      const ack = decodeAck(answer);
      rx.release();
      const where = `${spec.transport}${spec.mode !== 'copy' ? ` (${spec.mode})` : ''} throughput, ${size}-byte messages, repetition ${rep}`;
      if (!ack.ok) throw new IntegrityError(`${where}: the receiver saw message ${ack.failedAt} arrive with ${describeProblem(ack.problem)}`);
      if (ack.received !== count) throw new IntegrityError(`${where}: ${count} messages sent, ${ack.received} received`);
      if (full && ack.checksum !== h) {
        throw new IntegrityError(
          `${where}: ${describeProblem(CHECKSUM_MISMATCH)}: sent 0x${(h >>> 0).toString(16)}, received 0x${(ack.checksum >>> 0).toString(16)}`,
        );
      }
      const seconds = Math.max(1e-9, Number(ack.endNs - start) / 1e9);
      const perSecond = count / seconds;
      if (rep === 0) count = clamp((perSecond * spec.repSeconds) / 2, 3, 5_000_000);
      else if (rep === 1) count = timedCount = clamp(perSecond * spec.repSeconds, 3, 5_000_000);
      else {
        rates.push((count * size) / seconds);
        timedMessages += count;
      }
    }
    const bytesPerSec = median(rates);
    emit(
      resultRecord(
        spec,
        link,
        size,
        { bytesPerSec, messagesPerSec: bytesPerSec / size, perRepeat: rates, messagesPerRepeat: timedCount },
        { before: futex0, messages: timedMessages },
      ),
    );
  }
}

export async function serveThroughput(link: Link, spec: SessionSpec): Promise<void> {
  const { tx, rx } = link;
  const header: Header = { seq: 0, remaining: 0, flags: 0, rep: 0 };
  const ackBytes = new Uint8Array(ACK_SIZE);
  for (const size of spec.sizes) {
    const p = link.prepare?.(size);
    if (p) await p;
    const inPlace = spec.mode === 'zero-copy' ? new InPlaceReader(size) : null;
    for (let rep = 0; rep < spec.repeat + 2; rep++) {
      let h = CHECKSUM_SEED;
      let problem = STAMP_OK;
      let failedAt = -1;
      let count = -1;
      let received = 0;
      for (;;) {
        let m = rx.receive(size);
        if (m instanceof Promise) m = await m;
        let code = checkStamps(m, size, received, header);
        if (inPlace && code === STAMP_OK && !inPlace.matches(m, header)) code = PAYLOAD_DIFFERS;
        if (code !== STAMP_OK && problem === STAMP_OK) {
          problem = code;
          failedAt = received;
        }
        if (received === 0 && code !== 2) count = header.remaining + 1;
        if (header.flags & FULL_VERIFY) h = checksum(h, m);
        rx.release();
        received++;
        if (received === count || (count < 0 && received > 0 && code === STAMP_OK && header.remaining === 0)) break;
      }
      const endNs = process.hrtime.bigint();
      encodeAck(ackBytes, { ok: problem === STAMP_OK, checksum: h, received, endNs, failedAt, problem });
      const sent = tx.send(ackBytes);
      if (sent) await sent;
    }
  }
}
