// bench/many-processes.ts (one server and N clients) is tested for correctness, never for speed: a tiny run at
// N = 1 and 2 completes with every message verified and the contracted JSON shape, a corrupted byte fails every
// transport of every scenario, and the command line, the plan and the reports are checked.
import { describe, expect, it } from 'vitest';
import { MANY_DEFAULTS, groupCpus, manyOptionsFromArgs, planParts, runMany } from '../../bench/many-processes.js';
import { TARGET_NAMES, manyCharts, renderManyHtml, renderManyText } from '../../bench/many/report.js';
import { KINDS, SCENARIOS, SCENARIO_KINDS, type ManyOptions, type ManyOutput } from '../../bench/many/types.js';

const tiny: ManyOptions = {
  ...MANY_DEFAULTS,
  clients: [1, 2],
  repeat: 1,
  repSeconds: 0.003,
  rounds: 1,
  verifyMessages: 200,
  pin: 'none',
  groupTimeoutMs: 90_000,
};

const NAMES = ['mailbox', 'mailbox+channel', 'topic', 'unix', 'ipc-advanced'];

describe('one server and N clients', () => {
  let output: ManyOutput;

  it('runs every scenario and transport at N = 1, 2 with every message verified, in the contracted JSON shape', { timeout: 120_000 }, async () => {
    output = await runMany(tiny);
    expect(output.errors).toEqual([]);
    const json = JSON.parse(JSON.stringify(output)) as ManyOutput;
    expect(json.host).toMatchObject({ cpus: expect.any(Number), cpuModel: expect.any(String), kernel: expect.any(String), node: process.version });
    expect(json.options).toMatchObject({ clients: [1, 2], sizes: [64, 65536], repeat: 1, rounds: 1, pin: 'none', node: process.version });
    expect(json.options.verification).toMatch(/checksummed/);
    expect(Object.keys(json.options.apis)).toHaveLength(8);
    // 2 N x (3 fan-in + 3 request/response + 2 fan-out) x 2 sizes
    expect(json.results).toHaveLength(2 * 8 * 2);
    const keys = new Set(json.results.map((r) => `${r.scenario}/${r.transport}/${r.clients}/${r.messageSize}`));
    expect(keys.size).toBe(json.results.length);
    for (const r of json.results) {
      expect(SCENARIOS).toContain(r.scenario);
      expect(SCENARIO_KINDS[r.scenario]).toContain(r.kind);
      expect(NAMES).toContain(r.transport);
      expect([1, 2]).toContain(r.clients);
      expect([64, 65536]).toContain(r.messageSize);
      expect(r.repeats).toBe(1);
      expect(r.perRepeat).toHaveLength(1);
      expect(r.messagesPerRepeat).toBeGreaterThanOrEqual(4);
      // every repetition's messages were checked, those of the verification repetition byte by byte
      expect(r.verified.messages).toBeGreaterThan(r.messagesPerRepeat);
      expect(r.verified.checksummed).toBeGreaterThan(0);
      expect(r.verified.checksummed).toBeLessThan(r.verified.messages);
      expect(r.placement).toMatchObject({ kind: 'unpinned', server: null, tool: null });
      expect(r.placement.clients).toHaveLength(r.clients);
      expect(r.placement.allowed.clients).toHaveLength(r.clients);
      expect(r.cpu.server).toBeGreaterThanOrEqual(0);
      expect(r.cpu.clients).toBeGreaterThanOrEqual(0);
      expect(r.futexPerMessage.server).toBeGreaterThanOrEqual(0);
      expect(r.node).toBe(process.version);
      expect(r.api).toMatch(/^(sync|async): /);
      expect(r.api.startsWith('sync')).toBe(r.kind === 'shm');
      expect(r.detail.length).toBeGreaterThan(10);
      if (r.scenario === 'request-response') {
        expect(r.rttNs!.p50).toBeGreaterThan(0);
        expect(r.rttNs!.p99).toBeGreaterThanOrEqual(r.rttNs!.p50);
        expect(r.messagesPerSec).toBeUndefined();
      } else {
        expect(r.messagesPerSec).toBeGreaterThan(0);
        expect(r.bytesPerSec).toBeCloseTo(r.messagesPerSec! * r.messageSize);
        expect(r.rttNs).toBeUndefined();
        if (r.scenario === 'fan-out') expect(r.deliveredPerSec).toBeCloseTo(r.messagesPerSec! * r.clients);
      }
    }
    expect(json.results.find((r) => r.transport === 'mailbox+channel')!.detail).toMatch(/Mailbox.*Channel/);
    expect(json.results.find((r) => r.transport === 'topic')!.detail).toMatch(/'block'/);
    // the targets are evaluated, not asserted: fan-in needs N = 8 and fan-out N = 4, which this run has not
    expect(json.targets.map((t) => t.name)).toEqual([
      TARGET_NAMES.fanIn,
      TARGET_NAMES.requestResponse(64),
      TARGET_NAMES.requestResponse(65536),
      TARGET_NAMES.fanOut,
    ]);
    expect(json.targets.map((t) => t.met === null)).toEqual([true, false, false, true]);
  });

  it('prints the tables and targets, and renders the charts and the HTML report', () => {
    const text = renderManyText(output);
    for (const heading of ['Fan-in', 'Request/response', 'Fan-out', 'Targets', 'APIs', 'Verified']) expect(text).toMatch(heading);
    expect(text).toMatch(/mailbox\+channel/);
    const charts = manyCharts(output);
    // fan-in and fan-out: one chart per size; request/response: a line chart and bars per size
    expect(charts.map(([name]) => name)).toHaveLength(8);
    for (const [, svg] of charts) {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/NaN|undefined/);
    }
    expect(charts.find(([name]) => name === 'many-fan-in-64.svg')![1]).toMatch(/client processes N/);
    const html = renderManyHtml(output);
    expect(html).toMatch(/<svg/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('a corrupted byte fails every transport of every scenario', { timeout: 90_000 }, async () => {
    const out = await runMany({ ...tiny, clients: [1], sizes: [4096], corrupt: { message: 1 } });
    expect(out.results).toEqual([]);
    expect(out.errors.map((e) => `${e.scenario} ${e.transport}`).sort()).toEqual(
      [
        'fan-in mailbox',
        'fan-in unix',
        'fan-in ipc-advanced',
        'request-response mailbox+channel',
        'request-response unix',
        'request-response ipc-advanced',
        'fan-out topic',
        'fan-out unix',
      ].sort(),
    );
    for (const e of out.errors) {
      expect(e.name).toBe('IntegrityError');
      expect(e.message).toMatch(/checksum mismatch|stamp wrong|payload bytes differ/);
    }
  });

  it('reads its command line, plans the parts and places the processes', () => {
    const quick = manyOptionsFromArgs(['--quick', '--pin', 'none']).options;
    expect(quick).toMatchObject({ clients: [1, 2, 4, 8], sizes: [64, 65536], repeat: 3, rounds: 1, preset: 'quick', pin: 'none' });
    const picked = manyOptionsFromArgs(['--clients', '2,1,2', '--sizes', '1K,64', '--transports', 'shm,unix', '--scenarios', 'fan-out', '--rep-ms', '10']);
    expect(picked.options).toMatchObject({ clients: [1, 2], sizes: [64, 1024], kinds: ['shm', 'unix'], scenarios: ['fan-out'], repSeconds: 0.01 });
    expect(() => manyOptionsFromArgs(['--transports', 'pipe'])).toThrow(/unknown transport 'pipe'/);
    expect(() => manyOptionsFromArgs(['--clients', '0'])).toThrow(/--clients/);
    // every scenario with the transports it compares, the sizes alternating the transports
    expect(planParts({ ...tiny, kinds: [...KINDS] }).map((p) => `${p.scenario} ${p.size} ${p.kind}`)).toEqual([
      'fan-in 64 shm',
      'fan-in 64 unix',
      'fan-in 64 ipc-advanced',
      'fan-in 65536 shm',
      'fan-in 65536 unix',
      'fan-in 65536 ipc-advanced',
      'request-response 64 shm',
      'request-response 64 unix',
      'request-response 64 ipc-advanced',
      'request-response 65536 shm',
      'request-response 65536 unix',
      'request-response 65536 ipc-advanced',
      'fan-out 64 shm',
      'fan-out 64 unix',
      'fan-out 65536 shm',
      'fan-out 65536 unix',
    ]);
    expect(groupCpus('cross', 4, 2)).toEqual({ server: 0, clients: [1, 1, 1, 1] });
    expect(groupCpus('cross', 4, 4)).toEqual({ server: 0, clients: [1, 2, 3, 1] });
    expect(groupCpus('none', 2, 4)).toEqual({ server: null, clients: [null, null] });
  });
});
