// Helpers for the spike's scripts: segments (marked IPC_RMID at once: destroyed at the last detach, nothing leaks).
import { shmget, shmat, shmctl, notify, IPC_PRIVATE, IPC_CREAT, IPC_RMID } from '/work/main/lib/index.js';
export { notify, shmat };

export function makeSegments(n: number, size = 4096) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = shmget(IPC_PRIVATE, size, 0o600 | IPC_CREAT);
    const att = shmat(id);
    shmctl(id, IPC_RMID);
    out.push({ id, att, view: new Int32Array(att.buffer) });
  }
  return out;
}
/** Attach a segment made by another process (still attached there, so IPC_RMID does not stop it). */
export function attach(id: number) {
  const att = shmat(id);
  return { id, att, view: new Int32Array(att.buffer) };
}
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export function pct(values: number[], p: number) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
export const median = (v: number[]) => pct(v, 50);
