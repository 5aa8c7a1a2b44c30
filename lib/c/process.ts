// kill(pid, 0): whether a process exists, the one liveness check that needs no /proc.

/** True unless the process is certainly gone (EPERM means it exists under another uid). */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
