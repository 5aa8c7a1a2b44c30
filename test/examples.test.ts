// The README's examples run as documented and leave nothing behind.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ROOT } from './support/child.js';

function run(script: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', `scripts/examples/${script}`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('examples', () => {
  it('port-from-c: the C writer/reader pair, ported', () => {
    const result = run('port-from-c.ts');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('reader: data read from memory: Hello from the writer');
  });

  it('flag-byte: writer and reader processes hand over a message', () => {
    const result = run('flag-byte.ts');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('reader (pid');
    expect(result.stdout).toContain('hello through shared memory');
    expect(result.stdout).toContain('reader acknowledged');
  });

  it('shared-counter: Atomics.add from several processes is exact', () => {
    const result = run('shared-counter.ts', '3', '20000');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('= 60000 (expected 60000)');
  });

  it('list-and-clean: lists, reports limits and usage', () => {
    const result = run('list-and-clean.ts');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/limits: max \d+ segments/);
    expect(result.stdout).toMatch(/in use: \d+ segments/);
  });

  it('mailbox: three worker processes send to one server, which sees each message with its sender', () => {
    const result = run('mailbox.ts');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('server: 12 messages from 3 workers; closing');
    for (let w = 1; w <= 3; w++) expect(result.stdout).toContain(`worker ${w}: result 4 of 4`);
  });

  it('flag-handshake, fifo-handshake and channel run between two processes and clean up', () => {
    for (const script of ['flag-handshake.ts', 'fifo-handshake.ts', 'channel.ts']) {
      const result = run(script);
      expect({ script, status: result.status, signal: result.signal }).toEqual({ script, status: 0, signal: null });
      expect(result.stdout.length).toBeGreaterThan(0);
    }
  });
});
