// Prints the plain "N passed, M failed" line CI reads, summed over every report named on the command line:
//
//   node scripts/ci/summary.mjs tmp/vitest-results.json tmp/leak-report.json
//   node scripts/ci/summary.mjs node26-full=tmp/ci/node26-full.json,tmp/ci/node26-full.leaks.json ... tmp/ci/emulated-arm64.json
//
// An argument is a file, or NAME=FILE[,FILE...] to label the lines printed about those files. Each file is
// recognised by its content:
//  - a leak report ({ leaked: [...] }, test/support/leak-check.ts): an IPC object left behind is one failure;
//  - a report of static checks ({ checks: [...] }, scripts/ci/checks.mjs): each check is one test;
//  - a vitest JSON report: its passed, failed and skipped tests, plus one failure per test file that failed to load.
//    One written by scripts/ci/emulated.sh also has an "emulated" key: its smoke test counts as one test, its leak
//    check as above, a vitest run that failed with no failed test (an error outside the tests) as one failure, and
//    the tests skipped under emulation are listed with their reasons.
// A missing file is a failure ("no vitest report was written"), except a missing leak report (its name has "leak").
import { basename } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const inputs = (args.length ? args : ['tmp/vitest-results.json', 'tmp/leak-report.json']).flatMap((arg) => {
  const labelled = /^([^=/]+)=(.+)$/.exec(arg);
  if (!labelled || existsSync(arg)) return [{ label: '', path: arg }];
  return labelled[2].split(',').map((path) => ({ label: labelled[1], path }));
});
let passed = 0;
let failed = 0;
let skipped = 0;

function countLeaks(leaked, where) {
  if (!leaked?.length) return;
  console.log(`leak check${where}: ${leaked.length} System V object(s) left behind`);
  failed += 1;
}

for (const { label, path } of inputs) {
  let where = label ? ` (${label})` : '';
  if (!existsSync(path)) {
    if (/leak/i.test(basename(path))) continue;
    console.log(`no vitest report was written${where}: ${path}`);
    failed += 1;
    continue;
  }
  let report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    console.log(`unreadable report${where} ${path}: ${error.message}`);
    failed += 1;
    continue;
  }
  if (Array.isArray(report.checks)) {
    for (const check of report.checks) {
      if (check.passed) passed += 1;
      else {
        console.log(`static check ${check.name}${where} failed: ${check.command}`);
        failed += 1;
      }
    }
    continue;
  }
  if (Array.isArray(report.leaked) && report.numTotalTests === undefined) {
    countLeaks(report.leaked, where);
    continue;
  }
  const failedBefore = failed;
  const emulated = report.emulated;
  if (emulated) {
    where = ` (${label || `emulated ${emulated.arch}`})`;
    if (emulated.smoke?.passed) passed += 1;
    else {
      console.log(`smoke test${where} failed:\n${emulated.smoke?.output ?? '(no output)'}`);
      failed += 1;
    }
    countLeaks(emulated.leaked, where);
  }
  if (report.numTotalTests === undefined) {
    console.log(`no vitest report was written${where}: ${path}`);
    failed += 1;
    continue;
  }
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    // A test file that failed to load counts as a failure even though it has no test results.
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
    for (const test of file.assertionResults ?? []) {
      const reason = test.meta?.emulationSkip;
      if (reason) console.log(`skipped${where}: ${[...(test.ancestorTitles ?? []), test.title].join(' > ')} [${reason}]`);
    }
  }
  if (emulated && emulated.vitestExitStatus !== 0 && failed === failedBefore) {
    console.log(`vitest${where} exited with status ${emulated.vitestExitStatus} although no test failed`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed ? 1 : 0;
