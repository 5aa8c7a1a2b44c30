// How keys and modes are written everywhere: as ipcs prints them.

/** A key as ipcs shows it: 0x and eight hex digits, unsigned. */
export function hexKey(key: number): string {
  return '0x' + (key >>> 0).toString(16).padStart(8, '0');
}

/** Permission bits as C writes them: 0600. */
export function octalMode(mode: number): string {
  return '0' + (mode & 0o777).toString(8).padStart(3, '0');
}
