// Re-renders the reports of a saved run: `npx tsx bench/render.ts results/results.json [--out DIR] [--docs]`.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SweepOutput } from './sweep.js';
import { renderText } from './report/table.js';
import { renderHtml } from './report/html.js';
import { latencyBarsChart, latencyChart, throughputChart } from './report/svg.js';
import { ROOT } from './session.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: join(ROOT, 'results') }, docs: { type: 'boolean', default: false } } });
const input = positionals[0] ?? join(ROOT, 'results', 'results.json');
const output = JSON.parse(readFileSync(input, 'utf8')) as SweepOutput;
const out = resolve(values.out!);
mkdirSync(out, { recursive: true });
const text = renderText(output);
console.log(text);
writeFileSync(join(out, 'report.html'), renderHtml(output));
const charts: Array<[string, string | null]> = [
  ['throughput.svg', throughputChart(output)],
  ['latency.svg', latencyChart(output)],
  ['latency-64B.svg', latencyBarsChart(output, output.options.pingpongSizes[0] ?? 64)],
];
for (const [name, svg] of charts) if (svg) writeFileSync(join(out, name), svg);
if (values.docs) {
  const docs = join(ROOT, 'docs', 'bench');
  mkdirSync(docs, { recursive: true });
  for (const [name, svg] of charts) if (svg && name !== 'latency-64B.svg') writeFileSync(join(docs, name), svg);
  writeFileSync(join(docs, 'figures.txt'), `${text}\n`);
}
