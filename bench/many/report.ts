// The reports of bench/many-processes.ts: tables per scenario with the ratios of one run, the issue's targets
// (printed with pass or miss, never asserted), charts (the harness's SVG line and bar charts) and an HTML page.
import type { Target } from '../report/analysis.js';
import { fmtCount, fmtNs, fmtRate, fmtRatio, fmtSize, textTable } from '../report/format.js';
import { esc, htmlHead, metCell } from '../report/html.js';
import { COLORS, latencyBars, lineChart, type Series } from '../report/svg.js';
import { SCENARIOS, type ManyOutput, type ManyPlacement, type ManyResult, type Scenario } from './types.js';

const ORDER = ['mailbox', 'mailbox+channel', 'topic', 'unix', 'ipc-advanced'];

function byOrder(a: string, b: string): number {
  return ORDER.indexOf(a) - ORDER.indexOf(b);
}

export function find(results: ManyResult[], scenario: Scenario, kind: string, clients: number, size: number): ManyResult | undefined {
  return results.find((r) => r.scenario === scenario && r.kind === kind && r.clients === clients && r.messageSize === size);
}

export function placementLine(p: ManyPlacement | undefined): string {
  if (!p) return 'placement unknown';
  if (p.kind === 'unpinned') return 'unpinned (the scheduler places every process)';
  const cpus = [...new Set(p.clients)].join(',');
  return `server on CPU ${p.server}, clients on CPU ${cpus} (${p.tool}; allowed: server ${p.allowed.server}, clients ${[...new Set(p.allowed.clients)].join(' ')})`;
}

export const TARGET_NAMES = {
  fanIn: '8 senders x 64 B into one Mailbox >= 5x the messages/s of 8 Unix sockets',
  requestResponse: (size: number) => `request/response ${fmtSize(size)}: Mailbox + Channel p50 below the Unix socket's at every N`,
  fanOut: 'Topic fan-out of 64 KiB to 4 subscribers >= 5x writing the same to 4 Unix sockets',
} as const;

/** What the library's figure of a missed target shows about where its time went. */
function whyMissed(r: ManyResult | undefined): string | undefined {
  if (!r) return undefined;
  const where =
    `${r.transport} at N=${r.clients}, ${fmtSize(r.messageSize)}: the server's process ran ${pct(r.cpu.server)} of the time, the clients together ${pct(r.cpu.clients)}; ` +
    `futex calls per message ${r.futexPerMessage.server.toFixed(2)} (server) / ${r.futexPerMessage.clients.toFixed(2)} (clients)`;
  return r.cpu.server < 0.8 && r.futexPerMessage.server < 0.05
    ? `${where}: the server hardly ever slept yet ran well under a full core, so other work on the machine had its CPU (see the load average).`
    : `${where}.`;
}

/** The issue's targets, from this run's figures (null: what they compare was not measured). */
export function evaluateManyTargets(results: ManyResult[]): Target[] {
  const placement = results[0]?.placement.kind ?? 'unpinned';
  const targets: Target[] = [];
  const add = (name: string, met: boolean | null, measured: string, shm?: ManyResult) => {
    const why = met === false ? whyMissed(shm) : undefined;
    targets.push({ name, placement, met, measured, ...(why ? { why } : {}) });
  };
  /** Shared memory at least 5 times the messages per second of Unix sockets (N clients, messages of `size`). */
  const fiveTimesUnix = (name: string, scenario: Scenario, n: number, size: number, more: (shm: number, unix: number) => string = () => '') => {
    const r = find(results, scenario, 'shm', n, size);
    const shm = r?.messagesPerSec;
    const unix = find(results, scenario, 'unix', n, size)?.messagesPerSec;
    add(
      name,
      shm && unix ? shm / unix >= 5 : null,
      shm && unix ? `${fmtRatio(shm / unix)} (${fmtCount(shm)} vs ${fmtCount(unix)}${more(shm, unix)})` : 'not measured',
      r,
    );
  };
  fiveTimesUnix(TARGET_NAMES.fanIn, 'fan-in', 8, 64);
  const rrSizes = [...new Set(results.filter((r) => r.scenario === 'request-response').map((r) => r.messageSize))].sort((a, b) => a - b);
  for (const size of rrSizes.length ? rrSizes : [64]) {
    const ns = [...new Set(results.filter((r) => r.scenario === 'request-response' && r.messageSize === size).map((r) => r.clients))].sort((a, b) => a - b);
    const pairs = ns
      .map((n) => ({
        n,
        shm: find(results, 'request-response', 'shm', n, size)?.rttNs?.p50,
        unix: find(results, 'request-response', 'unix', n, size)?.rttNs?.p50,
      }))
      .filter((p) => p.shm && p.unix);
    const worst = pairs.find((p) => p.shm! >= p.unix!);
    add(
      TARGET_NAMES.requestResponse(size),
      pairs.length ? !worst : null,
      pairs.length ? pairs.map((p) => `N=${p.n}: ${fmtNs(p.shm)} vs ${fmtNs(p.unix)} (${(p.shm! / p.unix!).toFixed(2)}x)`).join('; ') : 'not measured',
      worst ? find(results, 'request-response', 'shm', worst.n, size) : undefined,
    );
  }
  fiveTimesUnix(TARGET_NAMES.fanOut, 'fan-out', 4, 65536, (shm, unix) => ` per subscriber; ${fmtRate(shm * 65536)} vs ${fmtRate(unix * 65536)}`);
  return targets;
}

const HEADINGS: Record<Scenario, string> = {
  'fan-in':
    'Fan-in: N clients send into one server (messages and payload bytes per second into the server, all clients together; "x unix", "x ipc" = this rate over theirs, same N and size)',
  'request-response':
    'Request/response: every client sends a request and waits for its reply, all N clients at once (round trip of every request of every client; "unix / this", "ipc / this" = their p50 over this one: how many times lower)',
  'fan-out':
    'Fan-out: one publisher, N subscribers (messages and bytes per second each subscriber receives; delivered = all subscribers together; "x unix" = this rate over writing the same message to N sockets)',
};

function pct(x: number): string {
  return `${Math.round(100 * x)}%`;
}

function scenarioTable(results: ManyResult[], scenario: Scenario): string | null {
  const mine = results.filter((r) => r.scenario === scenario);
  if (!mine.length) return null;
  const sizes = [...new Set(mine.map((r) => r.messageSize))].sort((a, b) => a - b);
  const ns = [...new Set(mine.map((r) => r.clients))].sort((a, b) => a - b);
  const rows: string[][] = [];
  for (const size of sizes) {
    let firstOfSize = true;
    for (const n of ns) {
      const here = mine.filter((r) => r.messageSize === size && r.clients === n).sort((a, b) => byOrder(a.transport, b.transport));
      const unix = here.find((r) => r.kind === 'unix');
      const ipc = here.find((r) => r.kind === 'ipc-advanced');
      here.forEach((r, i) => {
        const lead = [firstOfSize && i === 0 ? fmtSize(size) : '', i === 0 ? String(n) : '', r.transport];
        const load = [
          `${pct(r.cpu.server)} / ${pct(r.cpu.clients)}`,
          r.kind === 'shm' ? `${r.futexPerMessage.server.toFixed(2)} / ${r.futexPerMessage.clients.toFixed(2)}` : '',
        ];
        if (scenario === 'request-response') {
          const ratio = (other: ManyResult | undefined) => (other && other !== r && other.rttNs ? fmtRatio(other.rttNs.p50 / r.rttNs!.p50) : '');
          rows.push([...lead, fmtNs(r.rttNs!.p50), fmtNs(r.rttNs!.p99), fmtNs(r.rttNs!.mean), ratio(unix), ratio(ipc), ...load]);
        } else {
          const ratio = (other: ManyResult | undefined) =>
            other && other !== r && other.messagesPerSec ? fmtRatio(r.messagesPerSec! / other.messagesPerSec) : '';
          if (scenario === 'fan-in') rows.push([...lead, fmtCount(r.messagesPerSec), fmtRate(r.bytesPerSec), ratio(unix), ratio(ipc), ...load]);
          else rows.push([...lead, fmtCount(r.messagesPerSec), fmtRate(r.bytesPerSec), fmtCount(r.deliveredPerSec), ratio(unix), ...load]);
        }
      });
      firstOfSize = false;
    }
  }
  const load = ['CPU server / clients', 'futex/msg'];
  const header =
    scenario === 'request-response'
      ? ['size', 'N', 'transport', 'p50', 'p99', 'mean', 'unix / this', 'ipc / this', ...load]
      : scenario === 'fan-in'
        ? ['size', 'N', 'transport', 'messages/s', 'bytes/s', 'x unix', 'x ipc', ...load]
        : ['size', 'N', 'transport', 'per subscriber', 'bytes/s', 'delivered', 'x unix', ...load];
  return `\n${HEADINGS[scenario]}:\n${textTable(header, rows)}`;
}

export function renderManyText(out: ManyOutput): string {
  const { host, options } = out;
  const parts: string[] = [];
  parts.push(
    `sysv-shm bench, one server and N clients: ${host.cpus} x ${host.cpuModel}${host.hypervisor ? ` (VM: ${host.hypervisor})` : ''}, Linux ${host.kernel}, Node ${options.node}; ` +
      `${options.repeat} timed repetitions of ~${Math.round(options.repSeconds * 1000)} ms per figure${options.rounds > 1 ? ` in each of ${options.rounds} alternating rounds` : ''}, medians; ` +
      `N = ${options.clients.join(', ')} client processes.`,
  );
  parts.push(
    `Placement: ${placementLine(out.results[0]?.placement)}. Load average at the start ${host.loadavg.join(' ')}, at the end ${options.loadavgAfter.join(' ')} (other work on the machine skews every figure).`,
  );
  for (const s of SCENARIOS) {
    const t = scenarioTable(out.results, s);
    if (t) parts.push(t);
  }
  if (out.results.length)
    parts.push(
      '\n"CPU server / clients": CPU time over wall-clock time in the timed repetitions (100% = one core busy), of the server and of all clients together; ' +
        '"futex/msg": futex system calls (wait + wake) of the library per message (fan-in: received; request/response: request; fan-out: published), server / all clients. ' +
        'CPU times are coarse over short runs (--quick): the kernel may account them in ticks of a few ms per process.',
    );
  parts.push('\nAPIs (sync where a process is dedicated to its loop, async where natural):');
  for (const [k, v] of Object.entries(options.apis)) parts.push(`  ${k}: ${v}`);
  if (out.targets.length) {
    parts.push('\nTargets (measured side by side in this run; printed, not asserted):');
    parts.push(
      textTable(
        ['target', 'met', 'measured'],
        out.targets.map((t) => [t.name, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.measured]),
      ),
    );
    const whys = out.targets.filter((t) => t.why).map((t) => `- ${t.name}: ${t.why}`);
    if (whys.length) parts.push(`Why missed:\n${whys.join('\n')}`);
  }
  const messages = out.results.reduce((n, r) => n + r.verified.messages, 0);
  const checksummed = out.results.reduce((n, r) => n + r.verified.checksummed, 0);
  parts.push(
    `\nVerified: ${messages.toLocaleString('en-US')} messages checked (stamps), ${checksummed.toLocaleString('en-US')} of them checksummed byte by byte. ${options.verification}`,
  );
  if (out.errors.length) {
    parts.push('\nFAILED:');
    for (const e of out.errors)
      parts.push(`  N=${e.clients}${e.scenario ? ` ${e.transport} ${e.scenario} ${fmtSize(e.messageSize!)}` : ''}: ${e.name}: ${e.message}`);
  }
  parts.push(`\n${out.results.length} figures in ${out.seconds.toFixed(0)} s.`);
  return parts.join('\n');
}

function subtitle(out: ManyOutput): string {
  return `${out.host.cpus} x ${out.host.cpuModel}, Linux ${out.host.kernel}, Node ${out.options.node}; ${placementLine(out.results[0]?.placement)}`;
}

function seriesOf(results: ManyResult[], value: (r: ManyResult) => number | undefined): Series[] {
  const names = [...new Set(results.map((r) => r.transport))].sort(byOrder);
  return names.map((name) => ({
    name,
    points: results
      .filter((r) => r.transport === name && value(r) !== undefined)
      .map((r) => [r.clients, value(r)!] as [number, number])
      .sort((a, b) => a[0] - b[0]),
  }));
}

const perN = { xLabel: 'client processes N', xFormat: (v: number) => `N=${v}` };

/** The charts of a run, by file name: per scenario and size, the figure against N; round trips also as bars. */
export function manyCharts(out: ManyOutput): Array<[string, string]> {
  const charts: Array<[string, string]> = [];
  for (const scenario of SCENARIOS) {
    const mine = out.results.filter((r) => r.scenario === scenario);
    for (const size of [...new Set(mine.map((r) => r.messageSize))].sort((a, b) => a - b)) {
      const here = mine.filter((r) => r.messageSize === size);
      const xValues = [...new Set(here.map((r) => r.clients))].sort((a, b) => a - b);
      const file = `many-${scenario}-${size}.svg`;
      if (scenario === 'request-response') {
        charts.push([
          file,
          lineChart({
            title: `Request/response round trip, ${fmtSize(size)}, all N clients at once (p50)`,
            subtitle: subtitle(out),
            yLabel: 'round trip, p50',
            series: seriesOf(here, (r) => r.rttNs?.p50),
            xValues,
            yFormat: fmtNs,
            ...perN,
          }),
        ]);
        const rows = xValues.flatMap((n) =>
          here
            .filter((r) => r.clients === n && r.rttNs)
            .sort((a, b) => byOrder(a.transport, b.transport))
            .map((r) => ({ name: `N=${n} ${r.transport}`, p50: r.rttNs!.p50, p99: r.rttNs!.p99, color: COLORS[r.transport] })),
        );
        if (rows.length)
          charts.push([
            `many-request-response-${size}-bars.svg`,
            latencyBars({ title: `Request/response round trip, ${fmtSize(size)}`, subtitle: subtitle(out), rows }),
          ]);
      } else {
        charts.push([
          file,
          lineChart({
            title:
              scenario === 'fan-in'
                ? `Fan-in: N senders into one server, ${fmtSize(size)} messages`
                : `Fan-out: one publisher to N subscribers, ${fmtSize(size)} messages`,
            subtitle: subtitle(out),
            yLabel: scenario === 'fan-in' ? 'messages/s into the server' : 'messages/s per subscriber',
            series: seriesOf(here, (r) => r.messagesPerSec),
            xValues,
            yFormat: (v) => fmtCount(v).replace(' /s', '/s'),
            ...perN,
          }),
        ]);
      }
    }
  }
  return charts;
}

export function renderManyHtml(out: ManyOutput, text = renderManyText(out)): string {
  const h = out.host;
  const rows = out.targets.map((t) => `<tr><td>${esc(t.name)}</td>${metCell(t.met)}<td>${esc(t.measured)}</td></tr>`).join('\n');
  const details = [...new Map(out.results.map((r) => [`${r.transport} (${r.scenario})`, `${r.detail}. ${r.api}`])).entries()];
  return `${htmlHead('sysv-shm benchmark: one server and N clients')}
<h1>sysv-shm: one server and N clients</h1>
<p>${esc(`${h.cpus} x ${h.cpuModel}${h.hypervisor ? ` (virtual machine: ${h.hypervisor})` : ''}, ${Math.round(h.memoryBytes / 2 ** 30)} GiB, Linux ${h.kernel}, Node ${out.options.node} (${h.arch}); ${h.date}; load average at start ${h.loadavg.join(' ')}, at the end ${out.options.loadavgAfter.join(' ')}.`)}</p>
<p>${esc(`Placement: ${placementLine(out.results[0]?.placement)}. N = ${out.options.clients.join(', ')} client processes, messages of ${out.options.sizes.map(fmtSize).join(' and ')}. Each figure is the median of ${out.options.repeat} timed repetitions of about ${Math.round(out.options.repSeconds * 1000)} ms${out.options.rounds > 1 ? ` in each of ${out.options.rounds} rounds that alternate the parts` : ''}, after a verification repetition and warm-up repetitions that size them. Integrity: ${out.options.verification}`)}</p>
<h2>Targets</h2>
<table><tr><th>target</th><th></th><th>measured</th></tr>
${rows}
</table>
${out.targets
  .filter((t) => t.why)
  .map((t) => `<p><b>${esc(t.name)}</b>, missed: ${esc(t.why!)}</p>`)
  .join('\n')}
<h2>Charts</h2>
${manyCharts(out)
  .map(([, svg]) => svg)
  .join('\n')}
<h2>All figures</h2>
<pre>${esc(text)}</pre>
<h2>What each transport is</h2>
<table><tr><th>transport</th><th>what was measured</th></tr>
${details.map(([k, d]) => `<tr><td>${esc(k)}</td><td>${esc(d)}</td></tr>`).join('\n')}
</table>
</body></html>
`;
}
