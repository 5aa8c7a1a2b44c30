// Perl's own IPC::SharedMem (from IPC::SysV, shipped with perl) as a real peer, in both directions.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Segment } from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';

const available = spawnSync('perl', ['-MIPC::SharedMem', '-e', '1']).status === 0;

function perl(code: string): string {
  const result = spawnSync('perl', ['-MIPC::SharedMem', '-MIPC::SysV=IPC_PRIVATE,IPC_CREAT,IPC_EXCL,S_IRUSR,S_IWUSR', '-e', code], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.status !== 0) throw new Error(`perl failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe.runIf(available)('Perl IPC::SharedMem as a peer', () => {
  it('Perl creates by key and writes; we open by key at the real size and read', () => {
    const key = uniqueKey();
    const id = Number(
      perl(`my $s = IPC::SharedMem->new(${key}, 777, S_IRUSR|S_IWUSR|IPC_CREAT|IPC_EXCL) or die $!; $s->write("from perl", 0, 9) or die $!; print $s->id;`),
    );
    removeAfterTest(id);
    const segment = Segment.open(key);
    expect(segment.id).toBe(id);
    expect(segment.size).toBe(777);
    expect(segment.mode).toBe(0o600);
    using a = segment.attach({ readOnly: true });
    expect(a.readString(0, 9)).toBe('from perl');
  });

  it('we create and write; Perl opens it with size 0, reads it, checks stat and removes it', () => {
    const key = uniqueKey();
    const segment = Segment.create({ key, size: 2000, mode: 0o640 });
    removeAfterTest(segment.id);
    using a = segment.attach();
    a.write('from node', 100);
    const seen = JSON.parse(
      perl(`
        my $s = IPC::SharedMem->new(${key}, 0, 0) or die $!;
        my $st = $s->stat;
        printf('{"id":%d,"data":"%s","segsz":%d,"mode":%d,"nattch":%d,"cpid":%d}',
          $s->id, $s->read(100, 9), $st->segsz, $st->mode & 0777, $st->nattch, $st->cpid);
        $s->remove or die $!;`),
    );
    expect(seen).toEqual({ id: segment.id, data: 'from node', segsz: 2000, mode: 0o640, nattch: 1, cpid: process.pid });
    expect(segment.markedForRemoval).toBe(true);
    a.detach();
    expect(procRow(segment.id)).toBeUndefined();
  });

  it('Perl makes a private segment; we attach it by id, and Perl sees our write', () => {
    const id = Number(perl('my $s = IPC::SharedMem->new(IPC_PRIVATE, 64, S_IRUSR|S_IWUSR|IPC_CREAT) or die $!; print $s->id;'));
    removeAfterTest(id);
    const segment = Segment.fromId(id);
    expect(segment.size).toBe(64);
    {
      using a = segment.attach();
      a.write('written by node');
    }
    // IPC::SharedMem->new needs a key; shmread reads a segment by id.
    expect(perl(`my $buf; shmread(${id}, $buf, 0, 15) or die $!; print $buf;`)).toBe('written by node');
  });
});
