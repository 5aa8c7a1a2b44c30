// A self-contained HTML report: host facts, charts (inline SVG), tables, targets, baselines. Nothing is
// loaded at view time.
import type { SweepOutput } from '../sweep.js';
import { evaluateTargets } from './analysis.js';
import { renderText } from './table.js';
import { latencyBarsChart, latencyChart, throughputChart } from './svg.js';
import { fmtSize } from './format.js';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The start of a report page, through <body>: its title and the style every report shares. */
export function htmlHead(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px auto; max-width: 960px; color: #222; padding: 0 12px; }
table { border-collapse: collapse; margin: 8px 0 20px; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.ok { color: #176c17; font-weight: 600; } td.no { color: #b00; font-weight: 600; }
pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 12px; } svg { max-width: 100%; height: auto; }
</style></head><body>`;
}

/** The table cell of a target's verdict: met, missed, or n/a (not measured). */
export function metCell(met: boolean | null): string {
  return `<td class="${met === null ? '' : met ? 'ok' : 'no'}">${met === null ? 'n/a' : met ? 'met' : 'missed'}</td>`;
}

export function renderHtml(out: SweepOutput): string {
  const h = out.host;
  const charts = [throughputChart(out), latencyChart(out), latencyBarsChart(out, Math.min(...out.options.pingpongSizes, Infinity) || 64)].filter(Boolean);
  const targets = evaluateTargets(out.results, out.baselines.bufferCopy);
  const targetRows = targets.map((t) => `<tr><td>${esc(t.name)}</td><td>${esc(t.placement)}</td>${metCell(t.met)}<td>${esc(t.measured)}</td></tr>`).join('\n');
  return `${htmlHead('sysv-shm benchmark')}
<h1>sysv-shm: shared memory against pipes, sockets and stdio</h1>
<p>${esc(`${h.cpus} x ${h.cpuModel}${h.hypervisor ? ` (virtual machine: ${h.hypervisor})` : ''}, ${Math.round(h.memoryBytes / 2 ** 30)} GiB, Linux ${h.kernel}, Node ${out.options.node ?? h.node} (${h.arch})${out.options.compiler ? `, C transports built with ${out.options.compiler}` : ''}; ${h.date}; load average at start ${h.loadavg.join(' ')}.`)}</p>
<p>${esc(`Each figure is the median of ${out.options.repeat} timed repetitions of about ${out.options.repSeconds * 1000} ms${(out.options.rounds ?? 1) > 1 ? ` in each of ${out.options.rounds} rounds that alternate the sessions` : ''}, after a verification repetition and a warm-up repetition. Message sizes: throughput ${out.options.throughputSizes.map(fmtSize).join(', ')}; ping-pong ${out.options.pingpongSizes.map(fmtSize).join(', ')}. Integrity: ${out.options.verification}.`)}</p>
<h2>Targets</h2>
<table><tr><th>target</th><th>placement</th><th></th><th>measured</th></tr>
${targetRows}
</table>
${targets
  .filter((t) => t.why)
  .map((t) => `<p><b>${esc(t.name)}</b> (${esc(t.placement)}), missed: ${esc(t.why!)}</p>`)
  .join('\n')}
<h2>Charts</h2>
${charts.join('\n')}
<h2>All figures</h2>
<pre>${esc(renderText(out))}</pre>
<h2>What each transport is</h2>
<table><tr><th>transport</th><th>what was measured</th></tr>
${[...new Map(out.results.map((r) => [r.wait === 'async' ? `${r.transport} async ${r.pattern}` : r.transport + (r.mode ? ` ${r.mode}` : ''), r.detail])).entries()].map(([k, d]) => `<tr><td>${esc(k)}</td><td>${esc(d)}</td></tr>`).join('\n')}
</table>
${(out.skipped ?? []).map((s) => `<p><b>Skipped ${esc(s.transport)}</b>: ${esc(s.reason)}</p>`).join('\n')}
</body></html>
`;
}
