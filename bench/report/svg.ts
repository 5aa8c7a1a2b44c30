// Charts as standalone SVG (no script, no fonts or anything fetched at view time), with d3-scale for the
// scales and ticks and d3-shape for the lines.
import { scaleLog } from 'd3-scale';
import { line } from 'd3-shape';
import type { SweepOutput } from '../sweep.js';
import type { BenchResult } from '../patterns/common.js';
import { fmtNs, fmtRate, fmtSize, placementText, sortVariants, variantOf } from './format.js';

export const COLORS: Record<string, string> = {
  'shm copy': '#1f77b4',
  'shm zero-copy': '#17becf',
  'shm spin': '#1f77b4',
  'shm hybrid': '#17becf',
  'shm futex': '#9467bd',
  'shm copy-alloc': '#6baed6',
  'shm async': '#3a5fcd',
  // The C anchors: the colour of the shm figure they anchor, dashed.
  'c-ring copy': '#1f77b4',
  'c-ring zero-copy': '#17becf',
  'c-ring spin': '#1f77b4',
  'c-ring hybrid': '#17becf',
  'c-ring futex': '#9467bd',
  'c-bare spin': '#393b79',
  'c-bare hybrid': '#5254a3',
  'c-bare futex': '#6b6ecf',
  'js-bare spin': '#e377c2',
  worker: '#7f7f7f',
  'worker spin': '#7f7f7f',
  'worker hybrid': '#bcbd22',
  'worker futex': '#c49c94',
  pipe: '#2ca02c',
  fifo: '#98df8a',
  unix: '#ff7f0e',
  stdio: '#d62728',
  'ipc-advanced': '#8c564b',
  'ipc-json': '#c5b0d5',
  'Buffer.copy (in-process)': '#000000',
  // One server and N clients (bench/many-processes.ts).
  mailbox: '#1f77b4',
  'mailbox+channel': '#17becf',
  topic: '#3a5fcd',
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface Series {
  name: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

/** Log-log line chart: x = message size (or what xLabel and xFormat say, on a base-2 log scale), y = a positive quantity. */
export function lineChart(o: {
  title: string;
  subtitle: string;
  yLabel: string;
  series: Series[];
  xValues: number[];
  yFormat: (v: number) => string;
  xLabel?: string;
  xFormat?: (v: number) => string;
}): string {
  const xFormat = o.xFormat ?? fmtSize;
  const W = 900;
  const H = 520;
  const m = { top: 64, right: 215, bottom: 56, left: 92 };
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0 && Number.isFinite(v));
  const xs = o.xValues;
  const x = scaleLog()
    .base(2)
    .domain([Math.min(...xs), Math.max(...xs)])
    .range([m.left, W - m.right]);
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const y = scaleLog()
    .domain([10 ** Math.floor(Math.log10(yMin)), 10 ** Math.ceil(Math.log10(yMax))])
    .range([H - m.bottom, m.top]);
  const yTicks = y.ticks().filter((t) => {
    const mant = t / 10 ** Math.floor(Math.log10(t) + 1e-9);
    return [1, 2, 5].some((k) => Math.abs(mant - k) < 1e-6);
  });
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${m.left}" y="26" font-size="17" font-weight="600">${esc(o.title)}</text>`);
  out.push(`<text x="${m.left}" y="46" fill="#555">${esc(o.subtitle)}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#333">${esc(o.yFormat(t).replace(/\.0+(?= )/, ''))}</text>`);
  }
  for (const v of xs) {
    out.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle" fill="#333">${esc(xFormat(v))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 14}" text-anchor="middle" fill="#333">${esc(o.xLabel ?? 'message size')} (log scale)</text>`);
  out.push(`<text transform="translate(20 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)} (log scale)</text>`);
  const path = line<[number, number]>()
    .x((p) => x(p[0]))
    .y((p) => y(p[1]));
  o.series.forEach((s, i) => {
    const color = COLORS[s.name] ?? ['#8c564b', '#e377c2', '#aec7e8'][i % 3];
    const pts = s.points.filter((p) => p[1] > 0 && Number.isFinite(p[1])).sort((a, b) => a[0] - b[0]);
    out.push(`<path d="${path(pts)}" fill="none" stroke="${color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of pts)
      out.push(
        `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name}, ${xFormat(p[0])}: ${o.yFormat(p[1])}`)}</title></circle>`,
      );
    const ly = m.top + 8 + i * 22;
    out.push(
      `<line x1="${W - m.right + 16}" x2="${W - m.right + 44}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${W - m.right + 50}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Horizontal bars of p50 round trip per transport at one size, with a tick for p99 (log scale). */
export function latencyBars(o: { title: string; subtitle: string; rows: Array<{ name: string; p50: number; p99: number; color?: string }> }): string {
  const W = 900;
  const rowH = 30;
  const m = { top: 64, right: 150, bottom: 48, left: 130 };
  const H = m.top + m.bottom + rowH * o.rows.length;
  const values = o.rows.flatMap((r) => [r.p50, r.p99]).filter((v) => v > 0);
  const x = scaleLog()
    .domain([10 ** Math.floor(Math.log10(Math.min(...values))), 10 ** Math.ceil(Math.log10(Math.max(...values)))])
    .range([m.left, W - m.right]);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${m.left}" y="26" font-size="17" font-weight="600">${esc(o.title)}</text>`);
  out.push(`<text x="${m.left}" y="46" fill="#555">${esc(o.subtitle)}</text>`);
  const ticks = x.ticks().filter((t) => {
    const mant = t / 10 ** Math.floor(Math.log10(t) + 1e-9);
    return [1, 2, 5].some((k) => Math.abs(mant - k) < 1e-6);
  });
  for (const t of ticks) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle" fill="#333">${esc(fmtNs(t))}</text>`);
  }
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle" fill="#333">round trip (log scale): bar = p50, tick = p99</text>`);
  o.rows.forEach((r, i) => {
    const color = r.color ?? COLORS[r.name] ?? '#8c564b';
    const top = m.top + i * rowH + 5;
    out.push(`<text x="${m.left - 8}" y="${top + 14}" text-anchor="end">${esc(r.name)}</text>`);
    out.push(
      `<rect x="${m.left}" y="${top}" width="${Math.max(1, x(r.p50) - m.left).toFixed(1)}" height="${rowH - 10}" fill="${color}"><title>${esc(`${r.name}: p50 ${fmtNs(r.p50)}, p99 ${fmtNs(r.p99)}`)}</title></rect>`,
    );
    out.push(`<line x1="${x(r.p99).toFixed(1)}" x2="${x(r.p99).toFixed(1)}" y1="${top - 2}" y2="${top + rowH - 8}" stroke="#333" stroke-width="2"/>`);
    out.push(
      `<text x="${Math.min(W - m.right - 4, x(r.p99) + 6).toFixed(1)}" y="${top + 14}" fill="#333" font-size="11">${esc(`p50 ${fmtNs(r.p50)}, p99 ${fmtNs(r.p99)}`)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** The C anchors and the JS floor are drawn dashed. */
function isAnchor(variant: string): boolean {
  return /^(c-ring|c-bare|js-bare) /.test(variant);
}

function hostLine(out: SweepOutput, placement: BenchResult['placement']): string {
  return `${out.host.cpus} x ${out.host.cpuModel}, Linux ${out.host.kernel}, Node ${out.options.node ?? out.host.node}; ${placementText(placement)}`;
}

/** The placement to chart: cross-core when measured, else the first one. */
function chartPlacement(out: SweepOutput): BenchResult['placement'] | undefined {
  return out.results.find((r) => r.placement.kind === 'cross-core')?.placement ?? out.results[0]?.placement;
}

export function throughputChart(out: SweepOutput): string | null {
  const pl = chartPlacement(out);
  const tp = out.results.filter((r) => r.pattern === 'throughput' && r.placement.kind === pl?.kind);
  if (!pl || tp.length === 0) return null;
  const series: Series[] = sortVariants(tp.map(variantOf)).map((v) => ({
    name: v,
    points: tp.filter((r) => variantOf(r) === v).map((r) => [r.messageSize, r.bytesPerSec!] as [number, number]),
    dashed: isAnchor(v),
  }));
  if (out.baselines.bufferCopy.length)
    series.push({ name: 'Buffer.copy (in-process)', points: out.baselines.bufferCopy.map((b) => [b.messageSize, b.bytesPerSec]), dashed: true });
  return lineChart({
    title: 'Throughput between two processes, one-way stream',
    subtitle: hostLine(out, pl),
    yLabel: 'payload bytes per second',
    series,
    xValues: [...new Set(tp.map((r) => r.messageSize))].sort((a, b) => a - b),
    yFormat: fmtRate,
  });
}

export function latencyChart(out: SweepOutput): string | null {
  const pl = chartPlacement(out);
  const pp = out.results.filter((r) => r.pattern === 'pingpong' && r.placement.kind === pl?.kind && r.rttNs);
  if (!pl || pp.length === 0) return null;
  return lineChart({
    title: 'Ping-pong round trip (p50)',
    subtitle: hostLine(out, pl),
    yLabel: 'round trip, p50',
    series: sortVariants(pp.map(variantOf)).map((v) => ({
      name: v,
      points: pp.filter((r) => variantOf(r) === v).map((r) => [r.messageSize, r.rttNs!.p50] as [number, number]),
      dashed: isAnchor(v),
    })),
    xValues: [...new Set(pp.map((r) => r.messageSize))].sort((a, b) => a - b),
    yFormat: fmtNs,
  });
}

export function latencyBarsChart(out: SweepOutput, size = 64): string | null {
  const pl = chartPlacement(out);
  const pp = out.results.filter((r) => r.pattern === 'pingpong' && r.placement.kind === pl?.kind && r.messageSize === size && r.rttNs);
  if (!pl || pp.length === 0) return null;
  const rows = sortVariants(pp.map(variantOf)).map((v) => {
    const r = pp.find((x) => variantOf(x) === v)!;
    return { name: v, p50: r.rttNs!.p50, p99: r.rttNs!.p99 };
  });
  return latencyBars({ title: `Ping-pong round trip, ${fmtSize(size)} messages`, subtitle: hostLine(out, pl), rows });
}
