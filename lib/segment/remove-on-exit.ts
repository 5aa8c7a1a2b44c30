// Removing segments when the process ends: on normal exit, on an uncaught exception (Node still emits 'exit'),
// and on SIGINT/SIGTERM/SIGHUP. A signal is never swallowed: when we are its only listener we clean up and
// re-raise it, so the process still dies of that signal; when the program has its own listener, that listener
// decides, and 'exit' cleans up if it exits. The listeners are there only while a segment is to be removed, and
// also run from inside a synchronous wait of ours (lib/native/signals.ts): Ctrl-C works while one sleeps.
import { IPC_RMID, allowDuringWaits, disallowDuringWaits, shmctl } from '../c/index.js';

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
  uninstall();
  process.kill(process.pid, signal); // no listener left: the default action, the process dies of the signal
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  // It may also run from inside a synchronous wait of ours, which would otherwise keep the signal waiting.
  allowDuringWaits(onSignal);
}

/** Nothing left to remove: the listeners go, and signals get their default action back. */
function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.removeListener('exit', removeAll);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  disallowDuringWaits(onSignal);
}

/**
 * For the REPL: takes the SIGINT listener away while `breakEvalOnSigint` evaluates an input, and gives back a
 * function that puts it back. Node's vm takes every SIGINT listener away during such an evaluation, and taking the
 * last one away resets SIGINT to its default action over the handler of the watchdog that was to interrupt the
 * evaluation: Ctrl-C would kill the REPL instead of returning to its prompt. With no listener left beforehand, the
 * watchdog's handler stays.
 */
export function suspendSigintListener(): () => void {
  if (!installed || !process.listeners('SIGINT').includes(onSignal)) return () => {};
  process.removeListener('SIGINT', onSignal);
  return () => {
    if (installed && !process.listeners('SIGINT').includes(onSignal)) process.on('SIGINT', onSignal);
  };
}

export function removeOnExit(shmid: number): void {
  install();
  pending.add(shmid);
}

export function cancelRemoveOnExit(shmid: number): void {
  pending.delete(shmid);
  if (pending.size === 0) uninstall();
}

export function isRemovedOnExit(shmid: number): boolean {
  return pending.has(shmid);
}
