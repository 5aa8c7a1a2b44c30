// Re-renders the reports of a saved run: `npx tsx bench/render.ts results/results.json [--out DIR] [--docs]`.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SweepOutput } from './sweep.js';
import { renderText } from './report/table.js';
import { writeReports } from './report/write.js';
import { ROOT } from './session.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: join(ROOT, 'results') }, docs: { type: 'boolean', default: false } },
});
const input = positionals[0] ?? join(ROOT, 'results', 'results.json');
const output = JSON.parse(readFileSync(input, 'utf8')) as SweepOutput;
const out = resolve(values.out!);
const text = renderText(output);
console.log(text);
writeReports(output, text, out, values.docs!);
