// The safety floor: no misuse reachable from JavaScript may crash the process. Each case runs in a child
// process, because a SIGSEGV would otherwise take the test runner with it.
import { describe, expect, it } from 'vitest';
import { IPC_CREAT, IPC_PRIVATE, shmget } from '../../lib/index.js';
import { procRow, removeAfterTest } from '../support/segments.js';
import { runChild, type ChildResult } from '../support/child.js';

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
    const result = runChild(`
      import { shmat, shmdt } from LIB;
      const a = shmat(${id});
      const bytes = new Uint8Array(a.buffer), dv = new DataView(a.buffer), f64 = new Float64Array(a.buffer, 8, 4);
      const nodeBuffer = Buffer.from(a.buffer), i32 = new Int32Array(a.buffer);
      bytes[0] = 1; f64[0] = 3.5;
      shmdt(a);
      bytes.fill(9); dv.setUint32(100, 7); f64[1] = 1.25; nodeBuffer.write('after detach', 200);
      Atomics.add(i32, 10, 1);
      if (bytes[0] !== 9 || dv.getUint32(100) !== 7) throw new Error('placeholder memory is not writable');
      const again = shmat(${id});
      const seen = new Uint8Array(again.buffer);
      if (seen[0] !== 1 || new Float64Array(again.buffer, 8, 1)[0] !== 3.5) throw new Error('segment data changed');
      shmdt(again);
      console.log('OK');
    `);
    expectClean(result);
    expect(procRow(id)!.nattch).toBe(0);
  });

  it('a read-only attachment hands out no writable memory at all', () => {
    const id = segment();
    const result = runChild(`
      import { shmat, shmdt, SHM_RDONLY } from LIB;
      const r = shmat(${id}, null, SHM_RDONLY);
      let refused = 0;
      for (const attempt of [() => r.buffer, () => new Uint8Array(r.buffer), () => Buffer.from(r.buffer)]) {
        try { attempt(); } catch (e) { if (e.code === 'ERR_SHM_READ_ONLY') refused++; }
      }
      const copy = r.read(0, 16);
      copy[0] = 1; // a copy: writing it is fine
      const names = Object.getOwnPropertyNames(Object.getPrototypeOf(r));
      if (names.some((n) => /write|view|fill/i.test(n))) throw new Error('read-only attachment offers ' + names);
      shmdt(r);
      console.log(refused === 3 ? 'OK' : 'refused ' + refused);
    `);
    expectClean(result);
  });

  it('SHM_REMAP over memory the library does not own is refused (the JS heap survives)', () => {
    const id = segment(4096);
    const result = runChild(`
      import koffi from 'koffi';
      import { shmat, SHM_REMAP, SHM_RND } from LIB;
      const heap = Buffer.alloc(1 << 20);
      const target = koffi.address(heap);
      for (const flags of [SHM_REMAP, SHM_REMAP | SHM_RND]) {
        try { shmat(${id}, target, flags); throw new Error('remap allowed'); }
        catch (e) { if (e.code !== 'ERR_SHM_FOREIGN_ADDRESS') throw e; }
      }
      heap.fill(1);
      console.log('OK');
    `);
    expectClean(result);
    expect(procRow(id)!.nattch).toBe(0);
  });

  it('a fixed address over mapped memory without SHM_REMAP fails with EINVAL, no crash', () => {
    const id = segment(4096);
    const result = runChild(`
      import koffi from 'koffi';
      import { shmat, SHM_RND } from LIB;
      const heap = Buffer.alloc(1 << 20);
      try { shmat(${id}, koffi.address(heap), SHM_RND); throw new Error('attached over the heap'); }
      catch (e) { if (e.code !== 'EINVAL') throw e; }
      heap.fill(2);
      console.log('OK');
    `);
    expectClean(result);
  });

  it('garbage collection detaches thousands of dropped attachments and gives back the address space', () => {
    const id = segment(64 * 1024);
    const result = runChild(
      `
      import { readFileSync } from 'node:fs';
      import { shmat, shmctl, IPC_STAT } from LIB;
      const sysvMappings = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes('/SYSV')).length;
      const mappings = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').length;
      const before = mappings();
      const attachAndDrop = () => {
        for (let i = 0; i < 3000; i++) {
          const a = shmat(${id});
          if (i % 2) new Uint8Array(a.buffer)[i % 100] = 1; // half of them made a view
        }
      };
      attachAndDrop();
      const peak = shmctl(${id}, IPC_STAT).nattch;
      for (let i = 0; i < 20 && (shmctl(${id}, IPC_STAT).nattch > 0 || mappings() > before + 50); i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      const after = shmctl(${id}, IPC_STAT).nattch;
      console.log(JSON.stringify({ peak, after, sysv: sysvMappings(), growth: mappings() - before }));
      console.log('OK');
    `,
      { nodeArgs: ['--expose-gc'], timeoutMs: 60_000 },
    );
    expectClean(result);
    const stats = JSON.parse(result.stdout.trim().split('\n')[0]);
    expect(stats.peak).toBeGreaterThan(0);
    expect(stats.after).toBe(0);
    expect(stats.sysv).toBe(0);
    expect(stats.growth).toBeLessThan(50);
  });

  it('a buffer kept after its attachment object is dropped stays attached and live', () => {
    const id = segment(4096);
    const result = runChild(
      `
      import { shmat, shmctl, IPC_STAT } from LIB;
      let kept = new Uint8Array(shmat(${id}).buffer);
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      if (shmctl(${id}, IPC_STAT).nattch !== 1) throw new Error('detached under a live view');
      kept[0] = 5;
      const check = shmat(${id});
      if (check.read(0, 1)[0] !== 5) throw new Error('view no longer shares the segment');
      kept = null;
      console.log('OK');
    `,
      { nodeArgs: ['--expose-gc'] },
    );
    expectClean(result);
  });

  it('transferring a segment buffer to a worker copies instead of moving the memory', () => {
    const id = segment(4096);
    const result = runChild(`
      import { MessageChannel } from 'node:worker_threads';
      import { shmat, shmdt } from LIB;
      const a = shmat(${id});
      const { port1, port2 } = new MessageChannel();
      port1.postMessage(a.buffer, [a.buffer]);
      const copy = structuredClone(a.buffer, { transfer: [a.buffer] });
      if (a.buffer.byteLength !== 4096) throw new Error('the segment buffer was detached by a transfer');
      new Uint8Array(a.buffer)[0] = 1;
      port1.close(); port2.close();
      shmdt(a);
      console.log(copy.byteLength === 4096 ? 'OK' : 'bad copy');
    `);
    expectClean(result);
  });

  it('a segment removed by ipcrm while attached stays usable until detach', () => {
    const id = segment(4096);
    const result = runChild(`
      import { execFileSync } from 'node:child_process';
      import { shmat, shmdt, shmctl, IPC_STAT, SHM_DEST } from LIB;
      const a = shmat(${id});
      execFileSync('ipcrm', ['-m', '${id}']);
      const view = new Uint8Array(a.buffer);
      view[0] = 3;
      if (!(shmctl(${id}, IPC_STAT).perm.mode & SHM_DEST)) throw new Error('not marked');
      shmdt(a);
      try { shmctl(${id}, IPC_STAT); throw new Error('still there'); } catch (e) { if (e.code !== 'EINVAL') throw e; }
      view[0] = 4;
      console.log('OK');
    `);
    expectClean(result);
    expect(procRow(id)).toBeUndefined();
  });

  it('a process killed with SIGKILL while attached drops its attachments', async () => {
    const id = segment(4096);
    const { startChild, waitForLine } = await import('../support/child.js');
    const child = startChild(`
      import { shmat } from LIB;
      const a = shmat(${id}); const b = shmat(${id});
      new Uint8Array(a.buffer)[0] = 1;
      console.log('attached');
      setInterval(() => {}, 1000);
    `);
    await waitForLine(child, /attached/);
    expect(procRow(id)!.nattch).toBe(2);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(procRow(id)!.nattch).toBe(0);
  });
});
