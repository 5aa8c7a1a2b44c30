// Prints the plain "N passed, M failed" line CI reads, from vitest's JSON report and the leak report.
import { existsSync, readFileSync } from 'node:fs';

const [resultsPath = 'tmp/vitest-results.json', leakPath = 'tmp/leak-report.json'] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(resultsPath)) {
  const report = JSON.parse(readFileSync(resultsPath, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A test file that failed to load counts as a failure even though it has no test results.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  console.log('no vitest report was written');
  failed += 1;
}
if (existsSync(leakPath)) {
  const { leaked = [] } = JSON.parse(readFileSync(leakPath, 'utf8'));
  if (leaked.length) {
    console.log(`leak check: ${leaked.length} segment(s) left behind`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed ? 1 : 0;
