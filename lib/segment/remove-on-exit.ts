// Removing segments when the process ends: on normal exit, on an uncaught exception (Node still emits 'exit'),
// and on SIGINT/SIGTERM/SIGHUP. A signal is never swallowed: when we are its only listener we clean up and
// re-raise it, so the process still dies of that signal; when the program has its own listener, that listener
// decides, and 'exit' cleans up if it exits.
import { IPC_RMID } from '../c/constants.js';
import { shmctl } from '../c/shmctl.js';

const pending = new Set<number>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function removeAll(): void {
  for (const id of pending) {
    try {
      shmctl(id, IPC_RMID);
    } catch {
      // already removed, by us or by someone else
    }
  }
  pending.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // the program handles this signal itself
  removeAll();
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

export function removeOnExit(shmid: number): void {
  install();
  pending.add(shmid);
}

export function cancelRemoveOnExit(shmid: number): void {
  pending.delete(shmid);
}

export function isRemovedOnExit(shmid: number): boolean {
  return pending.has(shmid);
}
