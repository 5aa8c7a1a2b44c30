// The terminal report: the channel against its C anchors, throughput and ping-pong tables with ratios, the
// baselines, the targets.
import type { SweepOutput } from '../sweep.js';
import type { BenchResult } from '../patterns/common.js';
import { bestPipeSocket, evaluateTargets, find } from './analysis.js';
import { cRingPeer, fmtCount, fmtNs, fmtRate, fmtRatio, fmtSize, placementText, sortVariants, textTable, variantOf } from './format.js';

/** "1.23x" for ratios near 1 (the anchor comparisons), where one decimal says too little. */
function fmtClose(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`;
}

function pct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(0)}%`;
}

/**
 * The channel beside the same protocol in C, measured in this run at the same placement: throughput per mode
 * (JS/C as a fraction of C's rate) and ping-pong per wait (JS/C as a multiple of C's round trip), with the floors.
 */
export function renderAnchors(results: BenchResult[], placement: string): string | null {
  const here = results.filter((r) => r.placement.kind === placement);
  const rows: string[][] = [];
  const tp = here.filter((r) => r.pattern === 'throughput');
  for (const size of [...new Set(tp.map((r) => r.messageSize))].sort((a, b) => a - b)) {
    for (const mode of ['copy', 'zero-copy']) {
      const js = find(here, placement, 'throughput', `shm ${mode}`, size);
      const c = find(here, placement, 'throughput', `c-ring ${mode}`, size);
      if (!js || !c) continue;
      rows.push([fmtSize(size), `throughput, ${mode}`, fmtRate(js.bytesPerSec), fmtRate(c.bytesPerSec), pct(js.bytesPerSec! / c.bytesPerSec!)]);
    }
  }
  const pp = here.filter((r) => r.pattern === 'pingpong');
  for (const size of [...new Set(pp.map((r) => r.messageSize))].sort((a, b) => a - b)) {
    for (const wait of ['spin', 'hybrid', 'futex']) {
      const js = find(here, placement, 'pingpong', `shm ${wait}`, size);
      const c = find(here, placement, 'pingpong', `c-ring ${wait}`, size);
      if (!js?.rttNs || !c?.rttNs) continue;
      const floors = [find(here, placement, 'pingpong', `c-bare ${wait}`, size), find(here, placement, 'pingpong', `js-bare ${wait}`, size)]
        .filter((r): r is BenchResult => !!r?.rttNs)
        .map((r) => `${r.transport} ${fmtNs(r.rttNs!.p50)}`);
      rows.push([fmtSize(size), `ping-pong p50, ${wait}`, fmtNs(js.rttNs.p50), fmtNs(c.rttNs.p50), fmtClose(js.rttNs.p50 / c.rttNs.p50), floors.join(', ')]);
    }
  }
  if (rows.length === 0) return null;
  const c = here.find((r) => r.transport === 'c-ring');
  const js = here.find((r) => r.transport === 'shm');
  return [
    `\nThe channel (shm, Node ${js?.node ?? '?'}) against its protocol in C (c-ring: bench/c/ring.c, ${c?.compiler ?? '?'}; the same header, records, waits and copies), same placement, side by side; ` +
      `throughput: JS as a share of C's rate; ping-pong: JS round trip as a multiple of C's; floors: the least a round trip costs in C (c-bare) and in JS without the channel (js-bare):`,
    textTable(['size', 'figure', 'shm (JS)', 'c-ring (C)', 'JS/C', 'floors'], rows),
  ].join('\n');
}

export function renderText(out: SweepOutput): string {
  const parts: string[] = [];
  const { host } = out;
  parts.push(
    `sysv-shm bench: ${host.cpus} x ${host.cpuModel}${host.hypervisor ? ` (VM: ${host.hypervisor})` : ''}, Linux ${host.kernel}, Node ${out.options.node ?? host.node}` +
      `${out.options.compiler ? `, C: ${out.options.compiler}` : ''}; ${out.options.repeat} timed repetitions of ~${out.options.repSeconds * 1000} ms per figure` +
      `${(out.options.rounds ?? 1) > 1 ? ` in each of ${out.options.rounds} alternating rounds` : ''}, medians.`,
  );
  const placements = [...new Set(out.results.map((r) => r.placement.kind))];
  for (const pl of placements) {
    const here = out.results.filter((r) => r.placement.kind === pl);
    parts.push(`\n=== placement: ${placementText(here[0].placement)} ===`);
    const anchors = renderAnchors(out.results, pl);
    if (anchors) parts.push(anchors);
    const tp = here.filter((r) => r.pattern === 'throughput');
    if (tp.length) {
      const sizes = [...new Set(tp.map((r) => r.messageSize))].sort((a, b) => a - b);
      const variants = sortVariants(tp.map(variantOf));
      const rows: string[][] = [];
      for (const size of sizes) {
        const stdio = find(tp, pl, 'throughput', 'stdio', size)?.bytesPerSec;
        const best = bestPipeSocket(tp, pl, 'throughput', size);
        const copy = out.baselines.bufferCopy.find((b) => b.messageSize === size)?.bytesPerSec;
        let first = true;
        for (const v of variants) {
          const r = find(tp, pl, 'throughput', v, size);
          if (!r) continue;
          const bps = r.bytesPerSec!;
          const ring = r.transport === 'c-ring' ? undefined : find(tp, pl, 'throughput', cRingPeer(r), size)?.bytesPerSec;
          rows.push([
            first ? fmtSize(size) : '',
            v,
            fmtRate(bps),
            fmtCount(r.messagesPerSec),
            stdio ? fmtRatio(bps / stdio) : '-',
            best?.bytesPerSec ? `${fmtRatio(bps / best.bytesPerSec)}` : '-',
            ring ? pct(bps / ring) : '-',
            copy ? pct(bps / copy) : '-',
            r.driverFutexCallsPerMessage === undefined ? '' : r.driverFutexCallsPerMessage.toFixed(3),
          ]);
          first = false;
        }
        if (copy) rows.push(['', '(Buffer.copy, in-process)', fmtRate(copy), fmtCount(copy / size), '', '', '', '100%', '']);
      }
      parts.push(
        `\nThroughput, one-way stream (payload bytes per second; "x best p/s" = against the best of pipe, fifo, unix at that size; ` +
          `"of C ring" = against c-ring in the same mode (copy for the others); "of copy" = against in-process Buffer.copy of the same size (one copy, warm cache); ` +
          `"futex/msg" = futex calls of the sending end per message; wait: ${tp.find((r) => r.wait)?.wait ?? '-'}):`,
      );
      parts.push(textTable(['size', 'transport', 'throughput', 'messages', 'x stdio', 'x best p/s', 'of C ring', 'of copy', 'futex/msg'], rows));
    }
    const pp = here.filter((r) => r.pattern === 'pingpong');
    if (pp.length) {
      const sizes = [...new Set(pp.map((r) => r.messageSize))].sort((a, b) => a - b);
      const variants = sortVariants(pp.map(variantOf));
      const rows: string[][] = [];
      for (const size of sizes) {
        const stdio = find(pp, pl, 'pingpong', 'stdio', size)?.rttNs?.p50;
        const best = bestPipeSocket(pp, pl, 'pingpong', size)?.rttNs?.p50;
        let first = true;
        for (const v of variants) {
          const r = find(pp, pl, 'pingpong', v, size);
          if (!r?.rttNs) continue;
          const ring = r.transport === 'shm' ? find(pp, pl, 'pingpong', cRingPeer(r), size)?.rttNs?.p50 : undefined;
          rows.push([
            first ? fmtSize(size) : '',
            v,
            fmtNs(r.rttNs.p50),
            fmtNs(r.rttNs.p99),
            fmtNs(r.rttNs.mean),
            stdio ? fmtRatio(stdio / r.rttNs.p50) : '-',
            best ? fmtRatio(best / r.rttNs.p50) : '-',
            ring ? fmtClose(r.rttNs.p50 / ring) : '-',
            r.driverFutexCallsPerMessage === undefined ? '' : r.driverFutexCallsPerMessage.toFixed(3),
          ]);
          first = false;
        }
      }
      parts.push(
        `\nPing-pong round trip (two messages; "x" = how many times lower the p50 is than stdio's / the best pipe/socket's; "/ C ring" = shm's p50 as a multiple of c-ring's with the same wait):`,
      );
      parts.push(textTable(['size', 'transport', 'p50', 'p99', 'mean', 'x stdio', 'x best p/s', '/ C ring', 'futex/msg'], rows));
    }
  }
  if (out.baselines.callCosts.length) {
    parts.push('\nPer-call cost of the C-shaped layer (median of batches):');
    parts.push(
      textTable(
        ['call', 'median', 'p10', 'p90'],
        out.baselines.callCosts.map((c) => [c.name, fmtNs(c.medianNs), fmtNs(c.p10Ns), fmtNs(c.p90Ns)]),
      ),
    );
  }
  const targets = evaluateTargets(out.results, out.baselines.bufferCopy);
  if (targets.length) {
    parts.push('\nTargets (measured side by side in this run):');
    parts.push(
      textTable(
        ['target', 'placement', 'met', 'measured'],
        targets.map((t) => [t.name, t.placement, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.measured]),
      ),
    );
    const whys = targets.filter((t) => t.why).map((t) => `- ${t.name} (${t.placement}): ${t.why}`);
    if (whys.length) parts.push(`Why missed:\n${whys.join('\n')}`);
  }
  for (const s of out.skipped ?? []) parts.push(`\nSKIPPED ${s.transport}: ${s.reason}`);
  if (out.errors.length) {
    parts.push('\nFAILED sessions:');
    for (const e of out.errors)
      parts.push(`  ${e.transport}${e.mode ? ` ${e.mode}` : ''}${e.wait ? ` ${e.wait}` : ''} ${e.pattern} (${e.placement.kind}): ${e.name}: ${e.message}`);
  }
  parts.push(`\n${out.results.length} figures in ${out.seconds.toFixed(0)} s.`);
  return parts.join('\n');
}
