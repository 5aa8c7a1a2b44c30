// bench/sysv-ipc.ts (semaphores and message queues beside the channel and a Unix socket) is tested for correctness,
// never for speed: a tiny run completes every part with every round trip checked and the contracted JSON shape and
// placement, a corrupted reply fails every part that carries data, and the command line, the plan, the ratios and
// the report are checked.
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  SYSV_PRESETS,
  type SysvOptions,
  type SysvOutput,
  canPin,
  cpusFor,
  mergeFigures,
  renderSysvText,
  runSysvBench,
  sysvOptionsFromArgs,
} from '../../bench/sysv-ipc.js';
import { TRANSPORTS, checkMessage, fillPattern, planParts, stampMessage } from '../../bench/sysv/parts.js';
import type { PartFigure } from '../../bench/sysv/process.js';

const tiny: SysvOptions = {
  ...sysvOptionsFromArgs(['--quick']).options,
  repeat: 1,
  repMs: 3,
  rounds: 1,
};

describe('bench:sysv', () => {
  let output: SysvOutput;

  it('runs every part with every round trip checked, in the contracted JSON shape, with placement and Node recorded', { timeout: 120_000 }, async () => {
    output = await runSysvBench(tiny);
    expect(output.errors).toEqual([]);
    const json = JSON.parse(JSON.stringify(output)) as SysvOutput;
    expect(json.host).toMatchObject({ cpus: expect.any(Number), cpuModel: expect.any(String), kernel: expect.any(String), node: process.version });
    expect(json.options).toMatchObject({ preset: 'quick', sizes: [64, 4096], modes: ['sync', 'async'], repeat: 1, rounds: 1, node: process.version });
    expect(json.options.loadavgAfter).toHaveLength(3);

    // Where the two processes ran, as each saw it.
    const expected = canPin() ? 'cross' : 'none';
    expect(json.placement).toMatchObject({ kind: expected, tool: expected === 'none' ? null : 'taskset', peer: { node: process.version } });
    expect(json.placement!.driver.pid).not.toBe(json.placement!.peer.pid);
    if (expected === 'cross') {
      expect(json.placement!.driver).toMatchObject({ cpu: 0, allowed: '0' });
      expect(json.placement!.peer).toMatchObject({ cpu: 1, allowed: '1' });
    }

    // sem and semop once (no data); queue, channel in two modes, msgsnd sync, unix async; each at 64 B and 4 KiB.
    expect(json.results).toHaveLength(2 + (2 + 2 + 1 + 1) * 2);
    expect(new Set(json.results.map((r) => `${r.transport}/${r.mode}/${r.messageSize}`)).size).toBe(json.results.length);
    for (const r of json.results) {
      expect(TRANSPORTS).toContain(r.transport);
      expect(r.messageSize).toBe(r.transport === 'sem' || r.transport === 'semop' ? 0 : r.messageSize);
      expect(r.repeats).toBe(1);
      expect(r.perRepeat).toHaveLength(1);
      expect(r.rounds).toBe(1);
      expect(r.roundTripsPerRepeat).toBeGreaterThanOrEqual(5);
      // the verification repetition byte by byte, then the warm-up and the timed ones with their stamps
      expect(r.verified).toEqual({ roundTrips: tiny.verifyCount + r.roundTripsPerRepeat * 2, fullyChecked: tiny.verifyCount });
      expect(r.rttNs.median).toBeGreaterThan(0);
      expect(r.rttNs.p99).toBeGreaterThanOrEqual(r.rttNs.p50);
      expect(r.rttNs.p50).toBeGreaterThanOrEqual(r.rttNs.min);
      expect(r.cpu.driver).toBeGreaterThanOrEqual(0);
      expect(r.cpu.peer).toBeGreaterThanOrEqual(0);
      expect(r.api.length).toBeGreaterThan(10);
      expect(r.detail.length).toBeGreaterThan(10);
      // every figure has both references (the semaphores against the 64 B ones)
      expect(r.vsChannel).toBeGreaterThan(0);
      expect(r.vsUnix).toBeGreaterThan(0);
      if (r.transport === 'channel') expect(r.vsChannel).toBe(1);
      if (r.transport === 'unix') expect(r.vsUnix).toBe(1);
    }
    expect(json.results.find((r) => r.transport === 'queue' && r.mode === 'async')!.api).toMatch(/receiveAsync/);
    expect(json.results.find((r) => r.transport === 'sem')!.detail).toMatch(/no SEM_UNDO/);
  });

  it('renders one table with the ratios, the placement and the Node version', () => {
    const text = renderSysvText(output);
    expect(text).toContain(`Node ${process.version}`);
    expect(text).toMatch(/x channel +x unix/);
    for (const name of ['SemaphoreSet', 'semop (C layer)', 'MessageQueue', 'msgsnd/msgrcv (C layer)', 'Channel (futex)', 'Unix socket'])
      expect(text).toContain(name);
    expect(text).toMatch(canPin() ? /cross: driver on CPU 0, peer on CPU 1 \(taskset/ : /unpinned/);
    expect(text).not.toMatch(/FAILED/);
  });

  it('a corrupted reply fails every part that carries data, and nothing is left behind', { timeout: 120_000 }, async () => {
    const bad = await runSysvBench({ ...tiny, transports: ['sem', 'queue', 'msgsnd', 'channel', 'unix'], sizes: [64], corruptAt: 3 });
    // The semaphores carry no data: they are measured; every other part fails on the reply to request 3.
    expect(bad.results.map((r) => r.transport)).toEqual(['sem']);
    expect(bad.errors.map((e) => e.part).sort()).toEqual([
      'channel/async/64',
      'channel/sync/64',
      'msgsnd/sync/64',
      'queue/async/64',
      'queue/sync/64',
      'unix/async/64',
    ]);
    for (const e of bad.errors) expect(e.message).toMatch(/reply to request 3 of repetition 0 is wrong: byte 32 of message 3 differs/);
    expect(renderSysvText(bad)).toMatch(/FAILED queue\/sync\/64 \(round 1\)/);
  });

  it('checks every message: stamps always, every byte in the verification repetition', () => {
    const m = new Uint8Array(64);
    fillPattern(m, 7);
    stampMessage(m, 5, 7);
    expect(checkMessage(m, 64, 5, 7, true)).toBeNull();
    expect(checkMessage(m, 64, 6, 7, false)).toMatch(/sequence 5, expected 6/);
    expect(checkMessage(m, 64, 5, 8, false)).toMatch(/repetition 7, expected 8/);
    expect(checkMessage(m.subarray(0, 63), 64, 5, 7, false)).toMatch(/length 63/);
    m[20] ^= 1;
    expect(checkMessage(m, 64, 5, 7, false)).toBeNull(); // the stamps alone
    expect(checkMessage(m, 64, 5, 7, true)).toMatch(/byte 20 of message 5 differs/);
    m[20] ^= 1;
    m[62] ^= 1;
    expect(checkMessage(m, 64, 5, 7, false)).toMatch(/tail stamp/);
  });

  it('plans the parts and reads the command line', () => {
    expect(planParts(['sem', 'queue', 'unix'], [64, 4096], ['sync', 'async']).map((p) => `${p.transport}/${p.mode}/${p.size}`)).toEqual([
      'sem/sync/0',
      'queue/sync/64',
      'queue/sync/4096',
      'queue/async/64',
      'queue/async/4096',
      'unix/async/64',
      'unix/async/4096',
    ]);
    const quick = sysvOptionsFromArgs(['--quick', '--transports', 'queue,channel', '--sizes', '64,1K', '--modes', 'sync', '--pin', 'none', '--rounds', '3']);
    expect(quick.options).toMatchObject({
      preset: 'quick',
      transports: ['queue', 'channel'],
      sizes: [64, 1024],
      modes: ['sync'],
      pin: 'none',
      rounds: 3,
      repeat: SYSV_PRESETS.quick.repeat,
      repMs: SYSV_PRESETS.quick.repMs,
    });
    expect(quick.out).toMatch(/results$/);
    expect(sysvOptionsFromArgs([]).options).toMatchObject({ preset: 'default', repeat: SYSV_PRESETS.default.repeat, rounds: SYSV_PRESETS.default.rounds });
    expect(() => sysvOptionsFromArgs(['--transports', 'pipe'])).toThrow(/unknown transport 'pipe'/);
    expect(() => sysvOptionsFromArgs(['--sizes', '8'])).toThrow(RangeError);
    expect(() => sysvOptionsFromArgs(['--sizes', '16K'])).toThrow(/msgmax/);
    expect(() => sysvOptionsFromArgs(['--repeat', '0'])).toThrow(RangeError);
    expect(cpusFor('cross')).toEqual({ driver: 0, peer: 1 });
    expect(cpusFor('same')).toEqual({ driver: 0, peer: 0 });
    expect(cpusFor('none')).toEqual({ driver: null, peer: null });
    if (cpus().length < 2) expect(() => sysvOptionsFromArgs(['--pin', 'cross'])).toThrow(RangeError);
  });

  it('merges rounds into medians over every timed repetition, and the ratios to the references', () => {
    const figure = (transport: PartFigure['part']['transport'], size: number, round: number, perRepeat: number[]): PartFigure => ({
      part: { transport, mode: 'sync', size },
      round,
      perRepeat,
      samples: perRepeat,
      roundTripsPerRepeat: 10,
      cpu: { driver: 0.5, peer: 0.25, seconds: 1 },
      verified: { roundTrips: 40, fullyChecked: 20 },
      detail: 'd',
    });
    const results = mergeFigures([
      figure('channel', 64, 0, [10, 12]),
      figure('queue', 64, 0, [100, 300]),
      figure('sem', 0, 0, [50]),
      figure('channel', 64, 1, [14]),
      figure('queue', 64, 1, [200]),
      figure('sem', 0, 1, [70]),
    ]);
    const of = (t: string) => results.find((r) => r.transport === t)!;
    expect(of('channel')).toMatchObject({ rttNs: { median: 12 }, repeats: 3, rounds: 2, perRound: [11, 14], vsChannel: 1, vsUnix: null });
    expect(of('queue')).toMatchObject({ rttNs: { median: 200, min: 100 }, vsChannel: 200 / 12, verified: { roundTrips: 80, fullyChecked: 40 } });
    expect(of('sem')).toMatchObject({ rttNs: { median: 60 }, vsChannel: 60 / 12, cpu: { driver: 0.5, peer: 0.25 } });
  });
});
