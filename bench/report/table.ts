// The terminal report: throughput and ping-pong tables with ratios, the baselines, the targets.
import type { SweepOutput } from '../sweep.js';
import { bestPipeSocket, evaluateTargets, find } from './analysis.js';
import { fmtCount, fmtNs, fmtRate, fmtRatio, fmtSize, placementText, sortVariants, textTable, variantOf } from './format.js';

export function renderText(out: SweepOutput): string {
  const parts: string[] = [];
  const { host } = out;
  parts.push(
    `sysv-shm bench: ${host.cpus} x ${host.cpuModel}${host.hypervisor ? ` (VM: ${host.hypervisor})` : ''}, Linux ${host.kernel}, Node ${host.node}; ` +
      `${out.options.repeat} timed repetitions of ~${out.options.repSeconds * 1000} ms per figure, medians.`,
  );
  const placements = [...new Set(out.results.map((r) => r.placement.kind))];
  for (const pl of placements) {
    const here = out.results.filter((r) => r.placement.kind === pl);
    parts.push(`\n=== placement: ${placementText(here[0].placement)} ===`);
    const tp = here.filter((r) => r.pattern === 'throughput');
    if (tp.length) {
      const sizes = [...new Set(tp.map((r) => r.messageSize))].sort((a, b) => a - b);
      const variants = sortVariants(tp.map(variantOf));
      const rows: string[][] = [];
      for (const size of sizes) {
        const stdio = find(tp, pl, 'throughput', 'stdio', size)?.bytesPerSec;
        const best = bestPipeSocket(tp, pl, 'throughput', size);
        const copy = out.baselines.bufferCopy.find((b) => b.messageSize === size)?.bytesPerSec;
        for (const v of variants) {
          const r = find(tp, pl, 'throughput', v, size);
          if (!r) continue;
          const bps = r.bytesPerSec!;
          rows.push([
            v === variants.find((x) => find(tp, pl, 'throughput', x, size)) ? fmtSize(size) : '',
            v,
            fmtRate(bps),
            fmtCount(r.messagesPerSec),
            stdio ? fmtRatio(bps / stdio) : '-',
            best?.bytesPerSec ? `${fmtRatio(bps / best.bytesPerSec)}` : '-',
            copy ? `${((100 * bps) / copy).toFixed(0)}%` : '-',
            r.driverFutexCallsPerMessage === undefined ? '' : r.driverFutexCallsPerMessage.toFixed(3),
          ]);
        }
        if (copy) rows.push(['', '(Buffer.copy, in-process)', fmtRate(copy), fmtCount(copy / size), '', '', '100%', '']);
      }
      parts.push(
        `\nThroughput, one-way stream (payload bytes per second; "x best p/s" = against the best of pipe, fifo, unix at that size; ` +
          `"of copy" = against in-process Buffer.copy of the same size; "futex/msg" = futex calls of the sending shm end per message; wait: ${tp.find((r) => r.transport === 'shm')?.wait ?? '-'}):`,
      );
      parts.push(textTable(['size', 'transport', 'throughput', 'messages', 'x stdio', 'x best p/s', 'of copy', 'futex/msg'], rows));
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
          rows.push([first ? fmtSize(size) : '', v, fmtNs(r.rttNs.p50), fmtNs(r.rttNs.p99), fmtNs(r.rttNs.mean), stdio ? fmtRatio(stdio / r.rttNs.p50) : '-', best ? fmtRatio(best / r.rttNs.p50) : '-', r.driverFutexCallsPerMessage === undefined ? '' : r.driverFutexCallsPerMessage.toFixed(3)]);
          first = false;
        }
      }
      parts.push(`\nPing-pong round trip (two messages; "x" = how many times lower the p50 is than stdio's / the best pipe/socket's):`);
      parts.push(textTable(['size', 'transport', 'p50', 'p99', 'mean', 'x stdio', 'x best p/s', 'futex/msg'], rows));
    }
  }
  if (out.baselines.callCosts.length) {
    parts.push('\nPer-call cost of the C-shaped layer (median of batches):');
    parts.push(textTable(['call', 'median', 'p10', 'p90'], out.baselines.callCosts.map((c) => [c.name, fmtNs(c.medianNs), fmtNs(c.p10Ns), fmtNs(c.p90Ns)])));
  }
  const targets = evaluateTargets(out.results, out.baselines.bufferCopy);
  if (targets.length) {
    parts.push('\nTargets (measured side by side in this run):');
    parts.push(textTable(['target', 'placement', 'met', 'measured'], targets.map((t) => [t.name, t.placement, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.measured])));
    const whys = targets.filter((t) => t.why).map((t) => `- ${t.name} (${t.placement}): ${t.why}`);
    if (whys.length) parts.push(`Why missed:\n${whys.join('\n')}`);
  }
  if (out.errors.length) {
    parts.push('\nFAILED sessions:');
    for (const e of out.errors) parts.push(`  ${e.transport}${e.mode ? ` ${e.mode}` : ''}${e.wait ? ` ${e.wait}` : ''} ${e.pattern} (${e.placement.kind}): ${e.name}: ${e.message}`);
  }
  parts.push(`\n${out.results.length} figures in ${out.seconds.toFixed(0)} s.`);
  return parts.join('\n');
}
