// The safety floor: no misuse reachable from JavaScript may crash the process. Each case runs in a child
// process, because a SIGSEGV would otherwise take the test runner with it.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IPC_CREAT, IPC_PRIVATE, SHM_NORESERVE, shmget } from '../../lib/index.js';
import { childResults, procRow, removeAfterTest } from '../support/segments.js';
import { runProgram, startProgram, waitForLine, type ChildResult } from '../support/child.js';
import { skipIfEmulated } from '../support/emulation.js';

/** A child program of test/fixtures/c-api/. */
const program = (name: string) => fileURLToPath(new URL(`../fixtures/c-api/${name}`, import.meta.url));

function segment(size = 8192): number {
  return removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
}

function expectClean(result: ChildResult): void {
  expect({ signal: result.signal, status: result.status, stderr: result.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  expect(result.stdout.trim().split('\n').at(-1)).toBe('OK');
}

describe('the process never crashes', () => {
  it('views of every kind used after detach read zeros and take writes harmlessly', () => {
    const id = segment();
    const result = runProgram(program('views-after-detach.ts'), [id]);
    expectClean(result);
    expect(procRow(id)!.nattch).toBe(0);
  });

  it('a read-only attachment hands out no writable memory at all', () => {
    const id = segment();
    const result = runProgram(program('read-only-hands-out-nothing-writable.ts'), [id]);
    expectClean(result);
  });

  it('SHM_REMAP over memory the library does not own is refused (the JS heap survives)', () => {
    const id = segment(4096);
    const result = runProgram(program('remap-over-heap.ts'), [id]);
    expectClean(result);
    expect(procRow(id)!.nattch).toBe(0);
  });

  it('a fixed address over mapped memory without SHM_REMAP fails with EINVAL, no crash', () => {
    const id = segment(4096);
    const result = runProgram(program('fixed-address-over-heap.ts'), [id]);
    expectClean(result);
  });

  it('garbage collection detaches thousands of dropped attachments; the placeholders they leave are reused', (ctx) => {
    const id = segment(64 * 1024);
    type Round = { peak: number; after: number; sysv: number; growth: number; placeholders: number; free: number };
    const rounds = childResults<Round[]>(runProgram(program('gc-reuse.ts'), [id], { nodeArgs: ['--expose-gc'], timeoutMs: 90_000 }));
    for (const round of rounds) {
      expect(round.peak).toBe(3000);
      expect(round.after).toBe(0);
      expect(round.sysv).toBe(0);
      // Every placeholder is free once its buffer is collected; there are never more than the attachments that
      // were alive at once (3000): an attachment that went over a free one leaves one too.
      expect(round.free).toBe(round.placeholders);
      expect(round.placeholders).toBeLessThanOrEqual(3000);
    }
    expect(rounds[0].placeholders).toBe(1500); // one per attachment that made a view
    // The mappings counted in /proc/self/maps: at most one per placeholder (the kernel merges neighbours), plus what
    // V8 maps meanwhile. qemu-user shows its own view of them.
    skipIfEmulated(
      ctx,
      "the mapping counts are qemu-user's: it write-protects the host pages of translated JIT code (V8's code space " +
        'splits into many small mappings) and places shmat(NULL) attachments itself, bottom-up, never filling the holes ' +
        "between placeholders, so adjacent placeholders do not merge as they do under the kernel's placement",
    );
    for (const round of rounds) expect(round.growth).toBeLessThanOrEqual(round.placeholders + 300);
  });

  it('a buffer kept after its attachment object is dropped stays attached and live', () => {
    const id = segment(4096);
    const result = runProgram(program('buffer-outlives-attachment.ts'), [id], { nodeArgs: ['--expose-gc'] });
    expectClean(result);
  });

  it('no transfer can move segment memory out from under the library: refused, or left harmless after detach', () => {
    const id = segment(4096);
    const results = childResults<Record<string, unknown>>(runProgram(program('transfer.ts'), [id], { nodeArgs: ['--expose-gc'] }));
    const major = Number(process.versions.node.split('.')[0]);
    if (major >= 21) {
      // Node marks external buffers untransferable; the library must not add a detach key (see exit test below).
      expect(results).toMatchObject({ postMessage: 'DataCloneError', structuredClone: 'DataCloneError', cloneBytes: -1 });
      expect(results.methods).toEqual({ transfer: 'TypeError', transferToFixedLength: 'TypeError' });
      // ArrayBuffer.prototype.transfer.call() moves the memory (same length: V8 reuses the backing store). After
      // detach and GC the moved buffer still reads placeholder memory: zeros, no fault.
      expect(results).toMatchObject({ movedByteLength: 4096, movedAfterDetach: [0, 0] });
      expect(['moved', 'TypeError']).toContain(results.byob);
    } else {
      expect(results).toMatchObject({ postMessage: 'done', structuredClone: 'done', cloneBytes: 4096, methods: null, byob: 'not available' });
    }
    expect(results.intact).toBe(true);
    expect(results.seen).toBe(1); // the segment kept what was written before the moves
    expect(procRow(id)!.nattch).toBe(0);
  });

  it.each(['natural', 'exit', 'terminate'])(
    'ending (%s) with live buffers in the main thread and a worker, child_process loaded: a clean exit on this Node',
    (ending) => {
      const id = segment(4096);
      const result = runProgram(program('exit-with-live-buffers.ts'), [id, ending]);
      expect({ signal: result.signal, status: result.status, stderr: result.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
      expect(result.stdout).toBe(`ending ${ending}\n`);
      expect(procRow(id)!.nattch).toBe(0);
    },
  );

  it('a segment removed by ipcrm while attached stays usable until detach', () => {
    const id = segment(4096);
    const result = runProgram(program('ipcrm-while-attached.ts'), [id]);
    expectClean(result);
    expect(procRow(id)).toBeUndefined();
  });

  it('a process killed with SIGKILL while attached drops its attachments', async () => {
    const id = segment(4096);
    const child = startProgram(program('attach-twice-and-stay.ts'), [id]);
    await waitForLine(child, /attached/);
    expect(procRow(id)!.nattch).toBe(2);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(procRow(id)!.nattch).toBe(0);
  });
});

describe('a platform without a koffi binary (s390x, mips64el)', () => {
  it('imports the package; the first call throws an error naming the platform and why', () => {
    const results = childResults<{ IPC_CREAT: number; target: string; shmget: string; create: string }>(runProgram(program('without-koffi.ts')));
    expect(results.IPC_CREAT).toBe(IPC_CREAT);
    expect(results.target).toMatch(/^linux-/);
    const expected = `Error: sysv-shm cannot call the C library on linux/${process.arch}: its FFI, koffi, has no binary for this platform (Cannot find the native Koffi module; did you compile it?)`;
    expect(results.shmget.startsWith(expected), results.shmget).toBe(true);
    expect(results.create.startsWith(expected), results.create).toBe(true);
  });
});

describe('segments larger than an ArrayBuffer may be', () => {
  it('a 5 GiB segment: windows work past 4 GiB; a whole buffer where this Node can make one, else a RangeError', (ctx) => {
    const size = 5 * 2 ** 30;
    if (process.arch === 'arm' || process.arch === 'ia32') ctx.skip('a 32-bit process has no room for a 5 GiB mapping');
    const id = removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | SHM_NORESERVE | 0o600));
    const results = childResults<Record<string, unknown>>(runProgram(program('large-segment.ts'), [id], { timeoutMs: 60_000 }));
    expect(results).toMatchObject({
      size,
      rawBack: [1, 2, 3],
      windowAfterDetach: [0, 0, 0],
      view: [1, 2, 3],
      lastWord: 7,
      string: 'past four GiB',
      filled: [0, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0],
      notified: 0,
      waited: 'timed-out',
    });
    if (size > (results.maxLength as number)) {
      // Node 20: at most 4 GiB per ArrayBuffer (koffi used to abort the process here).
      for (const key of ['whole', 'bytes', 'dataView', 'nodeBuffer']) {
        expect(results[key], key).toMatch(
          /^RangeError: segment \d+ has 5368709120 bytes, more than the largest ArrayBuffer Node v[\d.]+ makes \(\d+ bytes\): use attachment.window/,
        );
      }
    } else {
      expect(results).toMatchObject({ whole: `ok ${size}`, bytes: `ok ${size}`, dataView: `ok ${size}`, nodeBuffer: `ok ${size}` });
    }
    expect(procRow(id)!.nattch).toBe(0);
  });
});
