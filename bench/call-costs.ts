// Per-call costs of the C-shaped layer: what one shmget+shmat+shmdt cycle and one IPC_STAT cost, in
// nanoseconds (median of several batches; the machine is noisy, so compare within one run only).
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_STAT, shmat, shmctl, shmdt, shmget } from '../lib/index.js';

export interface CallCost {
  name: string;
  medianNs: number;
  p10Ns: number;
  p90Ns: number;
  batches: number;
}

function measure(name: string, perBatch: number, batches: number, body: () => void): CallCost {
  for (let i = 0; i < perBatch; i++) body(); // warm-up: JIT and koffi's call paths
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) body();
    samples.push(Number(process.hrtime.bigint() - start) / perBatch);
  }
  samples.sort((x, y) => x - y);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { name, medianNs: at(0.5), p10Ns: at(0.1), p90Ns: at(0.9), batches };
}

export function measureCallCosts(scale = 1): CallCost[] {
  const id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
  try {
    return [
      measure('IPC_STAT', 2000 * scale, 15, () => void shmctl(id, IPC_STAT)),
      measure('shmat+shmdt (existing segment)', 500 * scale, 15, () => shmdt(shmat(id))),
      measure('shmget+shmat+shmdt+IPC_RMID (new private segment)', 300 * scale, 15, () => {
        const fresh = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
        shmdt(shmat(fresh));
        shmctl(fresh, IPC_RMID);
      }),
      // Last: each detached buffer leaves a placeholder mapping until GC, which would slow the cases after it.
      measure('shmat+buffer+shmdt', 300 * scale, 15, () => {
        const a = shmat(id);
        void a.buffer;
        shmdt(a);
      }),
    ];
  } finally {
    shmctl(id, IPC_RMID);
  }
}
