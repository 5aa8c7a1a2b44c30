/** Ring size for a message size (shm channel and worker ring alike): at least 256 KiB and four messages. */
export function capacityFor(size: number): number {
  let c = 256 * 1024;
  while (c < 4 * (size + 16)) c *= 2;
  return c;
}
