// The benchmark runner is tested for correctness, never for speed: a tiny sweep over every transport checks the
// JSON shape, a corrupted payload must fail the run, and the command line and reports are checked.
import { describe, expect, it } from 'vitest';
import { runSweep, type SweepOptions, type SweepOutput } from '../../bench/sweep.js';
import { optionsFromArgs, parseSize } from '../../bench/run.js';
import { renderText } from '../../bench/report/table.js';
import { renderHtml } from '../../bench/report/html.js';
import { latencyChart, throughputChart } from '../../bench/report/svg.js';
import { evaluateTargets } from '../../bench/report/analysis.js';
import { TRANSPORTS } from '../../bench/transports/types.js';

const tiny: SweepOptions = {
  transports: [...TRANSPORTS],
  patterns: ['throughput', 'pingpong'],
  throughputSizes: [64, 4096],
  pingpongSizes: [64],
  modes: ['copy', 'zero-copy'],
  waits: ['spin', 'futex'],
  repeat: 1,
  repSeconds: 0.003,
  pin: ['none'],
  baselines: true,
  callCostScale: 0.02,
  sessionTimeoutMs: 20_000,
};

describe('bench sweep', () => {
  let output: SweepOutput;

  it('runs every transport and pattern and reports the contracted JSON shape', { timeout: 60_000 }, async () => {
    output = await runSweep(tiny);
    expect(output.errors).toEqual([]);
    const json = JSON.parse(JSON.stringify(output)) as SweepOutput;
    expect(json.host).toMatchObject({ cpus: expect.any(Number), cpuModel: expect.any(String), kernel: expect.any(String), node: process.version });
    for (const r of json.results) {
      expect(TRANSPORTS).toContain(r.transport);
      expect(['throughput', 'pingpong']).toContain(r.pattern);
      expect(Number.isInteger(r.messageSize)).toBe(true);
      expect(r.placement).toEqual({ kind: 'unpinned', cpus: null, tool: null });
      expect(r.repeats).toBe(1);
      if (r.pattern === 'throughput') {
        expect(r.bytesPerSec).toBeGreaterThan(0);
        expect(r.messagesPerSec).toBeCloseTo(r.bytesPerSec! / r.messageSize);
        expect(r.rttNs).toBeUndefined();
      } else {
        expect(r.rttNs!.p50).toBeGreaterThan(0);
        expect(r.rttNs!.p99).toBeGreaterThanOrEqual(r.rttNs!.p50);
        expect(r.rttNs!.mean).toBeGreaterThan(0);
      }
      if (r.transport === 'shm') {
        expect(['copy', 'zero-copy']).toContain(r.mode);
        if (r.pattern === 'pingpong') expect(['spin', 'futex']).toContain(r.wait);
      } else {
        expect(r.mode).toBeUndefined();
      }
    }
    // every transport, both patterns, every size; shm in both modes and both waits, worker in both waits
    const keys = new Set(json.results.map((r) => `${r.transport}/${r.mode ?? ''}/${r.pattern}/${r.pattern === 'pingpong' ? (r.wait ?? '') : ''}/${r.messageSize}`));
    expect(keys.size).toBe(json.results.length);
    expect(json.results.filter((r) => r.pattern === 'throughput')).toHaveLength(7 * 2);
    expect(json.results.filter((r) => r.pattern === 'pingpong')).toHaveLength(4 + 2 + 2);
    // the transports are what they say
    const detail = (t: string) => json.results.find((r) => r.transport === t)!.detail;
    expect(detail('stdio')).toMatch(/socketpair.*socket:\[/);
    expect(detail('pipe')).toMatch(/pipe:\[.*pipe:\[/);
    expect(detail('fifo')).toMatch(/mkfifo/);
    expect(json.baselines.bufferCopy.map((b) => b.messageSize)).toEqual([64, 4096]);
    expect(json.baselines.callCosts.length).toBeGreaterThan(0);
  });

  it('renders the tables, the targets, the charts and the HTML report', () => {
    const text = renderText(output);
    expect(text).toMatch(/Throughput/);
    expect(text).toMatch(/Ping-pong/);
    expect(text).toMatch(/x stdio/);
    expect(text).toMatch(/Targets/);
    const targets = evaluateTargets(output.results, output.baselines.bufferCopy);
    expect(targets.length).toBe(7);
    expect(targets.find((t) => t.name.startsWith('ping-pong 64 B: shm spin'))!.met).not.toBeNull();
    for (const svg of [throughputChart(output), latencyChart(output)]) {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/NaN|undefined/);
    }
    const html = renderHtml(output);
    expect(html).toMatch(/<svg/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe('integrity checks', () => {
  it('a corrupted byte in a message fails every transport, in both patterns', { timeout: 60_000 }, async () => {
    const out = await runSweep({
      ...tiny,
      transports: ['shm', 'stdio', 'pipe', 'fifo', 'unix', 'worker'],
      throughputSizes: [4096],
      pingpongSizes: [256],
      modes: ['copy', 'zero-copy'],
      waits: ['hybrid'],
      baselines: false,
      corrupt: { message: 2 },
    });
    expect(out.results).toEqual([]);
    expect(out.errors).toHaveLength(7 + 6);
    for (const e of out.errors) {
      expect(e.name).toBe('IntegrityError');
      expect(e.message).toMatch(/checksum mismatch|stamp wrong/);
    }
  });
});

describe('command line', () => {
  it('--quick covers 64 B and 1 MiB for every transport and the spin ping-pong', () => {
    const { sweep } = optionsFromArgs(['--quick', '--pin', 'none']);
    expect(sweep.transports).toEqual([...TRANSPORTS]);
    expect(sweep.throughputSizes).toEqual([64, 1 << 20]);
    expect(sweep.pingpongSizes).toEqual([64]);
    expect(sweep.waits).toContain('spin');
    expect(sweep.patterns).toEqual(['throughput', 'pingpong']);
  });

  it('parses sizes, lists and placements, and rejects what it does not know', () => {
    expect(parseSize('64')).toBe(64);
    expect(parseSize('4K')).toBe(4096);
    expect(parseSize('16MiB')).toBe(16 << 20);
    expect(() => parseSize('8')).toThrow(/>= 32/);
    const { sweep } = optionsFromArgs(['--sizes', '1M,64,128K', '--transports', 'shm,pipe', '--pin', 'both', '--repeat', '7']);
    expect(sweep.throughputSizes).toEqual([64, 131072, 1 << 20]);
    expect(sweep.pingpongSizes).toEqual([64]);
    expect(sweep.transports).toEqual(['shm', 'pipe']);
    expect(sweep.pin).toEqual(['same', 'cross']);
    expect(sweep.repeat).toBe(7);
    expect(() => optionsFromArgs(['--transports', 'carrier-pigeon'])).toThrow(/unknown transport/);
    expect(() => optionsFromArgs(['--frobnicate'])).toThrow();
  });
});
