// Writes the reports of a run: report.html and the SVG charts into the results folder, and with `docs` the charts
// and figures the README shows into docs/bench. Used by the runner and by bench/render.ts (a saved run).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SweepOutput } from '../sweep.js';
import { renderHtml } from './html.js';
import { latencyBarsChart, latencyChart, throughputChart } from './svg.js';

export const DOCS_DIR = fileURLToPath(new URL('../../docs/bench', import.meta.url));

export function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** `text` is the terminal report (renderText), kept as docs/bench/figures.txt with `docs`. */
export function writeReports(output: SweepOutput, text: string, outDir: string, docs: boolean): void {
  writeFile(join(outDir, 'report.html'), renderHtml(output));
  const charts: Array<[string, string | null]> = [
    ['throughput.svg', throughputChart(output)],
    ['latency.svg', latencyChart(output)],
    ['latency-64B.svg', latencyBarsChart(output, output.options.pingpongSizes[0] ?? 64)],
  ];
  for (const [name, svg] of charts) if (svg) writeFile(join(outDir, name), svg);
  if (!docs) return;
  // The README shows the curve and the per-transport latency; the single-size bars stay in the results folder.
  for (const [name, svg] of charts) if (svg && name !== 'latency-64B.svg') writeFile(join(DOCS_DIR, name), svg);
  writeFile(join(DOCS_DIR, 'figures.txt'), `${text}\n`);
}
