import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ftok } from '../../lib/index.js';
import { catchError } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-ftok-'));
const file = join(dir, 'key-file');
writeFileSync(file, 'x');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ftok', () => {
  it('combines proj_id, device and inode the way glibc documents', () => {
    const { ino, dev } = statSync(file);
    const expected = ((65 & 0xff) << 24) | ((dev & 0xff) << 16) | (ino & 0xffff);
    expect(ftok(file, 65)).toBe(expected | 0);
  });

  it('accepts a one-character string as C code passes a char', () => {
    expect(ftok(file, 'A')).toBe(ftok(file, 65));
  });

  it('is stable and differs by project id', () => {
    expect(ftok(file, 1)).toBe(ftok(file, 1));
    expect(ftok(file, 1)).not.toBe(ftok(file, 2));
  });

  it('throws ENOENT with the path for a missing file', () => {
    const missing = join(dir, 'missing');
    const error = catchError(() => ftok(missing, 1));
    expect(error).toMatchObject({ code: 'ENOENT', errno: 2, syscall: 'ftok', path: missing });
    expect(error.message).toContain(JSON.stringify(missing));
  });

  it('rejects bad arguments before the call', () => {
    expect(() => ftok(42 as unknown as string, 1)).toThrow(TypeError);
    expect(() => ftok('', 1)).toThrow(RangeError);
    expect(() => ftok(file, 0)).toThrow(RangeError);
    expect(() => ftok(file, 256)).toThrow(/low 8 bits/);
    expect(() => ftok(file, 1.5)).toThrow(RangeError);
    expect(() => ftok(file, 'AB')).toThrow(TypeError);
  });
});
