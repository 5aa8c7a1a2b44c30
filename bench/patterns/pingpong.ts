// Ping-pong: the driver sends one message and waits for the peer to echo it; round-trip time per message.
// Per size: one verification repetition (every byte of every reply checksummed against what was sent), one
// warm-up repetition that calibrates the count, then `repeat` timed repetitions of about `repSeconds` each. Each
// repetition gives p50, p99 and mean; the report takes the median of each over the timed repetitions.
import {
  CHECKSUM_MISMATCH,
  CHECKSUM_SEED,
  FULL_VERIFY,
  IntegrityError,
  STAMP_OK,
  basePattern,
  checkStamps,
  checksum,
  describeProblem,
  stamp,
  type Header,
} from './payload.js';
import { clamp, median, percentile, resultRecord, type BenchResult } from './common.js';
import type { Link, SessionSpec } from '../transports/types.js';

export async function drivePingPong(link: Link, spec: SessionSpec, emit: (r: BenchResult) => void): Promise<void> {
  const { tx, rx } = link;
  const header: Header = { seq: 0, remaining: 0, flags: 0, rep: 0 };
  for (const size of spec.sizes) {
    const p = link.prepare?.(size);
    if (p) await p;
    const own = basePattern(size);
    let count = 64;
    let timedCount = 0;
    const p50s: number[] = [];
    const p99s: number[] = [];
    const means: number[] = [];
    let futex0 = 0;
    let timedMessages = 0;
    for (let rep = 0; rep < spec.repeat + 2; rep++) {
      if (rep === 2) futex0 = link.futexCalls?.() ?? 0;
      const full = rep === 0;
      const flags = full ? FULL_VERIFY : 0;
      const rtt = new Float64Array(count);
      let sentSum = CHECKSUM_SEED;
      let gotSum = CHECKSUM_SEED;
      for (let i = 0; i < count; i++) {
        stamp(own, i, count - 1 - i, flags, rep);
        if (full) sentSum = checksum(sentSum, own);
        const t0 = performance.now();
        const sent = tx.send(own);
        if (sent) await sent;
        let m = rx.receive(size);
        if (m instanceof Promise) m = await m;
        const t1 = performance.now();
        const code = checkStamps(m, size, i, header);
        if (code !== STAMP_OK)
          throw new IntegrityError(`${spec.transport} ping-pong, ${size}-byte messages, repetition ${rep}: reply ${i} came back with ${describeProblem(code)}`);
        if (full) gotSum = checksum(gotSum, m);
        rx.release();
        rtt[i] = (t1 - t0) * 1e6;
      }
      if (full && sentSum !== gotSum)
        throw new IntegrityError(
          `${spec.transport} ping-pong, ${size}-byte messages: ${describeProblem(CHECKSUM_MISMATCH)} between what was sent and what came back`,
        );
      let total = 0;
      for (let i = 0; i < count; i++) total += rtt[i];
      const perSecond = count / (total / 1e9);
      if (rep === 0) count = clamp((perSecond * spec.repSeconds) / 2, 20, 2_000_000);
      else if (rep === 1) count = timedCount = clamp(perSecond * spec.repSeconds, 20, 2_000_000);
      else {
        rtt.sort();
        p50s.push(percentile(rtt, 0.5));
        p99s.push(percentile(rtt, 0.99));
        means.push(total / rtt.length);
        timedMessages += count;
      }
    }
    emit(
      resultRecord(
        spec,
        link,
        size,
        { rttNs: { p50: median(p50s), p99: median(p99s), mean: median(means) }, perRepeat: p50s, messagesPerRepeat: timedCount },
        { before: futex0, messages: timedMessages },
      ),
    );
  }
}

export async function servePingPong(link: Link, spec: SessionSpec): Promise<void> {
  const { tx, rx } = link;
  for (const size of spec.sizes) {
    const p = link.prepare?.(size);
    if (p) await p;
    for (let rep = 0; rep < spec.repeat + 2; rep++) {
      let remaining = 1;
      while (remaining !== 0) {
        let m = rx.receive(size);
        if (m instanceof Promise) m = await m;
        remaining = m.length >= 8 ? m[4] | (m[5] << 8) | (m[6] << 16) | (m[7] << 24) : 0;
        const sent = tx.send(m);
        if (sent) await sent;
        rx.release();
      }
    }
  }
}
