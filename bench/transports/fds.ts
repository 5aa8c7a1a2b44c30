import { readlinkSync } from 'node:fs';

/** What /proc says a process's fd is: 'pipe:[123]', 'socket:[456]', a path... */
export function fdKind(pid: number, fd: number): string {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch (error) {
    return `unknown (${(error as NodeJS.ErrnoException).code})`;
  }
}
