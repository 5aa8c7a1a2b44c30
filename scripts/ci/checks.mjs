// Runs the static checks of CI (lint with the layer rule, typecheck, the ABI tables against the host compiler)
// and writes { checks: [{ name, command, passed, seconds }] } for scripts/ci/summary.mjs, each check counting
// as one test. Output is shown as it comes.
//
//   node scripts/ci/checks.mjs tmp/ci/static.json lint='npm run -s lint' typecheck='npm run -s typecheck'
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [output, ...specs] = process.argv.slice(2);
const checks = [];
for (const spec of specs) {
  const [name, command] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
  console.log(`--- ${name}: ${command}`);
  const started = Date.now();
  const result = spawnSync(command, { shell: true, stdio: 'inherit' });
  const passed = result.status === 0;
  checks.push({ name, command, passed, seconds: (Date.now() - started) / 1000 });
  console.log(`--- ${name}: ${passed ? 'passed' : `FAILED (${result.status ?? result.signal})`}`);
}
writeFileSync(output, JSON.stringify({ checks }, null, 2));
