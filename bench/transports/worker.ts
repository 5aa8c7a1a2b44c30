// worker: the in-process reference. The peer is a worker_threads Worker in the driver's process; the two threads
// exchange messages through SharedArrayBuffer rings (sab-ring.ts): no process boundary, no FFI, no syscall
// while both spin. Pinned placements pin each thread with sched_setaffinity.
import { Worker, receiveMessageOnPort, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRing, DEAD, RingRx, RingTx, spinCount, type RingBuffers } from './sab-ring.js';
import { pinThisThread } from './affinity.js';
import type { DriverContext, Link, PeerContext, SessionSpec, TransportModule } from './types.js';

const THREAD = fileURLToPath(new URL('../worker-thread.ts', import.meta.url));
// tsx's loader does not follow into worker threads: the thread registers it, then imports the TypeScript entry.
const BOOT = `(async () => { const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(pathToFileURL(THREAD).href)}); })()
  .catch((error) => { setImmediate(() => { throw error; }); });`;

export interface WorkerData {
  spec: SessionSpec;
  down: RingBuffers;
  up: RingBuffers;
  state: SharedArrayBuffer;
}

export const worker: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const { spec } = ctx;
    const spin = spinCount(spec.wait);
    const stateSab = new SharedArrayBuffer(16);
    const state = new Int32Array(stateSab);
    let down = createRing(spec.sizes[0]);
    let up = createRing(spec.sizes[0]);
    if (spec.placement.cpus) pinThisThread(spec.placement.cpus[0]);
    const thread = new Worker(BOOT, { eval: true, workerData: { spec, down, up, state: stateSab } satisfies WorkerData, stdout: false, stderr: false });
    let failure: Error | undefined;
    thread.on('error', (e) => {
      failure = e;
      Atomics.store(state, DEAD, 1);
    });
    await new Promise<void>((resolve, reject) => {
      thread.once('message', () => resolve());
      thread.once('error', reject);
      thread.once('exit', (code) => reject(failure ?? new Error(`worker exited with ${code} before it was ready`)));
    });
    const tx = new RingTx(down, spin, state);
    const rx = new RingRx(up, spin, state);
    return {
      tx,
      rx,
      detail: 'worker_threads, SharedArrayBuffer rings, Atomics.wait/notify',
      prepare(size: number) {
        down = createRing(size);
        up = createRing(size);
        tx.attach(down);
        rx.attach(up);
        thread.postMessage({ down, up });
      },
      async close() {
        await thread.terminate();
        if (failure) throw failure;
      },
    };
  },
  async openPeer(_ctx: PeerContext): Promise<Link> {
    throw new Error('worker: the peer is a thread (bench/worker-thread.ts), not a process');
  },
};

/** The worker thread's end of the link. */
export function workerPeerLink(): { spec: SessionSpec; link: Link; state: Int32Array } {
  const data = workerData as WorkerData;
  const spin = spinCount(data.spec.wait);
  const state = new Int32Array(data.state);
  if (data.spec.placement.cpus) pinThisThread(data.spec.placement.cpus[1]);
  const rx = new RingRx(data.down, spin, state);
  const tx = new RingTx(data.up, spin, state);
  const port = parentPort as MessagePort;
  const link: Link = {
    tx,
    rx,
    detail: 'worker',
    async prepare() {
      for (;;) {
        const m = receiveMessageOnPort(port);
        if (m) {
          const { down, up } = m.message as { down: RingBuffers; up: RingBuffers };
          rx.attach(down);
          tx.attach(up);
          return;
        }
        await new Promise((r) => setTimeout(r, 0));
      }
    },
    close() {},
  };
  return { spec: data.spec, link, state };
}
