// Perl's own IPC::Semaphore and IPC::Msg (from IPC::SysV, shipped with perl) as real peers for semaphore sets and
// message queues, in both directions. IPC::Msg's snd packs the type as a native long ("l!") followed by the text:
// the same buffer as ours.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageQueue, SemaphoreSet } from '../../lib/index.js';
import { removeMadeSysvObjects, removeMsgAfterTest, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';

const MODULES = ['-MIPC::Semaphore', '-MIPC::Msg', '-MIPC::SysV=IPC_PRIVATE,IPC_CREAT,IPC_EXCL,IPC_NOWAIT,SEM_UNDO,MSG_NOERROR', '-MJSON::PP'];
const probe = spawnSync('perl', [...MODULES, '-e', '1'], { encoding: 'utf8' });
const available = probe.status === 0;

if (!available) it.skip(`Perl IPC::Semaphore / IPC::Msg peers are skipped: ${(probe.stderr || String(probe.error)).split('\n')[0]}`, () => {});

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every set and queue a test makes is removed after the test (test/support/sysv-objects.ts), and so is
// whatever a peer made under a key it was given, even if it failed before saying which id it made.
const perls = new Set<ChildProcess>();
const peerKeys: Array<['sem' | 'msg', number]> = [];

function removeKeyAfterTest(kind: 'sem' | 'msg', key: number): number {
  peerKeys.push([kind, key]);
  return key;
}

afterEach(() => {
  for (const child of perls) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  perls.clear();
  for (const [kind, key] of peerKeys.splice(0)) {
    const [, ...lines] = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n');
    for (const line of lines) {
      const [rowKey, id] = line.trim().split(/\s+/).map(Number);
      if (rowKey === (key | 0)) (kind === 'sem' ? removeSemAfterTest : removeMsgAfterTest)(id);
    }
  }
  removeMadeSysvObjects();
});

/** Runs Perl code that prints one JSON object (encode_json) and returns it. `alarm` ends a stuck peer. */
function perl<T = Record<string, unknown>>(code: string): T {
  const result = spawnSync('perl', [...MODULES, '-e', `alarm 20; ${code}`], { encoding: 'utf8', timeout: 25_000 });
  if (result.status !== 0) throw new Error(`perl failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as T;
}

/** Starts Perl code in the background; resolves with the JSON it prints last. */
function startPerl<T = Record<string, unknown>>(code: string): { child: ChildProcess; result: Promise<T> } {
  const child = spawn('perl', [...MODULES, '-e', `alarm 20; $| = 1; ${code}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  perls.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<T>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T) : reject(new Error(`perl: ${code} ${stderr}`)))),
  );
  return { child, result };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** IPC::Semaphore::stat and the values, as JSON. */
const SEM_STAT =
  'my $st = $s->stat or die "stat: $!"; ' +
  '{ uid => $st->uid, gid => $st->gid, cuid => $st->cuid, cgid => $st->cgid, mode => $st->mode, ctime => $st->ctime, otime => $st->otime, ' +
  'nsems => $st->nsems, values => [map { 0 + $_ } $s->getall], pids => [map { 0 + ($s->getpid($_) // 0) } 0 .. $st->nsems - 1], ' +
  'ncnt => [map { 0 + ($s->getncnt($_) // 0) } 0 .. $st->nsems - 1], id => $s->id, pid => $$ }';

interface PerlSemStat {
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  ctime: number;
  otime: number;
  nsems: number;
  values: number[];
  pids: number[];
  ncnt: number[];
  id: number;
  pid: number;
}

/** Perl opens the set by key (or uses `open`), runs `extra`, and prints its stat. */
function perlSem(key: number, extra = ''): PerlSemStat {
  return perl(`my $s = IPC::Semaphore->new(${key}, 0, 0) or die "new: $!"; ${extra}; print encode_json(do { ${SEM_STAT} });`);
}

function ourSemStat(set: SemaphoreSet) {
  const status = set.status();
  return {
    uid: status.uid,
    gid: status.gid,
    cuid: status.cuid,
    cgid: status.cgid,
    mode: status.mode,
    ctime: status.lastChangeTime.getTime() / 1000,
    otime: status.lastOperationTime === null ? 0 : status.lastOperationTime.getTime() / 1000,
    nsems: status.count,
    values: status.semaphores.map((s) => s.value),
    pids: status.semaphores.map((s) => s.lastPid),
    ncnt: status.semaphores.map((s) => s.waitingForNonzero),
    id: status.id,
  };
}

describe.runIf(available)('Perl IPC::Semaphore as a peer', () => {
  it('Perl creates a set of 3 and setall; we open it by key; getall, getval and stat match our values and status', () => {
    const key = removeKeyAfterTest('sem', uniqueKey());
    const made = perl<PerlSemStat>(
      `my $s = IPC::Semaphore->new(${key}, 3, 0640 | IPC_CREAT | IPC_EXCL) or die "new: $!"; $s->setall(1, 2, 3) or die "setall: $!"; print encode_json(do { ${SEM_STAT} });`,
    );
    removeSemAfterTest(made.id);
    const set = SemaphoreSet.open(key);
    expect(set.id).toBe(made.id);
    expect(set.count).toBe(3);
    expect(set.values()).toEqual([1, 2, 3]);
    const { pid, ...perlSide } = made;
    expect(perlSide).toEqual(ourSemStat(set));
    expect(perlSide).toMatchObject({ mode: 0o640, nsems: 3, values: [1, 2, 3], pids: [pid, pid, pid], otime: 0 });
  });

  it('we create and set values; Perl reads them with getall and getval, operates atomically with op, and we see it', () => {
    const key = uniqueKey();
    const set = SemaphoreSet.create({ key, count: 3, values: [5, 0, 7], mode: 0o600 });
    removeSemAfterTest(set.id);
    const seen = perl<{ all: number[]; each: number[] }>(
      `my $s = IPC::Semaphore->new(${key}, 0, 0) or die "new: $!"; print encode_json({ all => [map { 0 + $_ } $s->getall], each => [map { 0 + $s->getval($_) } 0 .. 2] });`,
    );
    expect(seen).toEqual({ all: [5, 0, 7], each: [5, 0, 7] });

    set.setValues([4, 5, 6]);
    set.setValue(1, 9);
    // One atomic op of three operations: -2 on 0, +1 on 1, -6 on 2 (all or nothing).
    const after = perlSem(key, '$s->op(0, -2, 0, 1, 1, 0, 2, -6, 0) or die "op: $!"');
    expect(after.values).toEqual([2, 10, 0]);
    expect(set.values()).toEqual([2, 10, 0]);
    expect(set.status().semaphores.map((s) => s.lastPid)).toEqual([after.pid, after.pid, after.pid]);
    const { pid: _pid, ...perlSide } = after;
    expect(perlSide).toEqual(ourSemStat(set));
    expect(after.otime).toBeGreaterThan(0);

    // An op that cannot complete at once with IPC_NOWAIT changes nothing (atomic), and Perl says so.
    const refused = perl<{ ok: number; values: number[] }>(
      `my $s = IPC::Semaphore->new(${key}, 0, 0) or die; my $ok = $s->op(0, -1, IPC_NOWAIT, 2, -1, IPC_NOWAIT) ? 1 : 0; print encode_json({ ok => $ok, values => [map { 0 + $_ } $s->getall] });`,
    );
    expect(refused).toEqual({ ok: 0, values: [2, 10, 0] });
    expect(set.values()).toEqual([2, 10, 0]);

    // Perl's setall and setval; we read them.
    perlSem(key, '$s->setall(3, 2, 1) or die "setall: $!"; $s->setval(1, 32767) or die "setval: $!"');
    expect(set.values()).toEqual([3, 32767, 1]);
  });

  it('Perl blocks in op until we release; we block in acquire until Perl releases; SEM_UNDO is given back at its exit', async () => {
    const key = uniqueKey();
    const set = SemaphoreSet.create({ key, count: 2, values: [0, 0] });
    removeSemAfterTest(set.id);

    const waiter = startPerl<{ values: number[]; pid: number }>(
      `my $s = IPC::Semaphore->new(${key}, 0, 0) or die; $s->op(0, -2, 0) or die "op: $!"; print encode_json({ values => [map { 0 + $_ } $s->getall], pid => $$ });`,
    );
    await until(() => set.status().semaphores[0].waitingForNonzero === 1, 'Perl waits on semaphore 0');
    expect(perlSem(key).ncnt).toEqual([1, 0]);
    set.release({ index: 0, count: 2, undo: false });
    const woken = await waiter.result;
    expect(woken.values).toEqual([0, 0]);
    expect(set.status().semaphores[0]).toMatchObject({ value: 0, lastPid: woken.pid, waitingForNonzero: 0 });

    // Perl gives semaphore 1 three times while our acquire blocks.
    const giver = startPerl(`my $s = IPC::Semaphore->new(${key}, 0, 0) or die; $s->op(1, 3, 0) or die; print encode_json({});`);
    expect(set.acquire({ index: 1, count: 3, undo: false, timeoutMs: 15_000 })).toBe(true);
    await giver.result;

    // Perl takes with SEM_UNDO and exits: the kernel gives it back.
    set.setValues([4, 4]);
    const held = perlSem(key, '$s->op(0, -3, SEM_UNDO, 1, -1, 0) or die "op: $!"');
    expect(held.values).toEqual([1, 3]);
    expect(set.values()).toEqual([4, 3]); // semaphore 0 was undone at Perl's exit, semaphore 1 was not
  });

  it('Perl reads our IPC_SET permissions in its stat, and we read the ones Perl sets', () => {
    const key = uniqueKey();
    const set = SemaphoreSet.create({ key, count: 1 });
    removeSemAfterTest(set.id);
    set.setPermissions({ uid: 4242, gid: 4343, mode: 0o604 });
    expect(perlSem(key)).toMatchObject({ uid: 4242, gid: 4343, mode: 0o604, cuid: process.getuid!() });
    // IPC::Semaphore's set() returns 0 on success (semctl's "0 but true", numified): defined() is the test.
    perlSem(key, 'defined($s->set(uid => 0, gid => 0, mode => 0660)) or die "set: $!"');
    expect(set.status()).toMatchObject({ uid: 0, gid: 0, mode: 0o660 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
/** IPC::Msg::stat as JSON. */
const MSG_STAT =
  'my $st = $q->stat or die "stat: $!"; ' +
  '{ uid => $st->uid, gid => $st->gid, cuid => $st->cuid, cgid => $st->cgid, mode => $st->mode, qnum => $st->qnum, qbytes => $st->qbytes, ' +
  'lspid => $st->lspid, lrpid => $st->lrpid, stime => $st->stime, rtime => $st->rtime, ctime => $st->ctime, id => $q->id, pid => $$, received => \\@received }';

interface PerlMsgStat {
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  qnum: number;
  qbytes: number;
  lspid: number;
  lrpid: number;
  stime: number;
  rtime: number;
  ctime: number;
  id: number;
  pid: number;
  received: Array<{ type: number; hex: string }>;
}

/** Perl opens the queue by key, runs `extra` (which may push { type, hex } onto @received), and prints its stat. */
function perlMsg(key: number, extra = ''): PerlMsgStat {
  return perl(`my $q = IPC::Msg->new(${key}, 0) or die "new: $!"; my @received; ${extra}; print encode_json(do { ${MSG_STAT} });`);
}

function ourMsgStat(queue: MessageQueue) {
  const status = queue.status();
  const seconds = (d: Date | null) => (d === null ? 0 : d.getTime() / 1000);
  return {
    uid: status.uid,
    gid: status.gid,
    cuid: status.cuid,
    cgid: status.cgid,
    mode: status.mode,
    qnum: status.messages,
    qbytes: status.maxBytes,
    lspid: status.lastSendPid,
    lrpid: status.lastReceivePid,
    stime: seconds(status.lastSendTime),
    rtime: seconds(status.lastReceiveTime),
    ctime: seconds(status.lastChangeTime),
    id: status.id,
  };
}

/** A receive loop in Perl: rcv(BUF, LEN, TYPE, FLAGS) for each type; pushes { type, hex } onto @received. */
const receiveEach = (types: number[], flags = '0') =>
  `for my $t (${types.join(', ')}) { my $buf; my $type = $q->rcv($buf, 65536, $t, ${flags}); die "rcv: $!" unless defined $type; push @received, { type => 0 + $type, hex => unpack('H*', $buf) }; }`;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe.runIf(available)('Perl IPC::Msg as a peer', () => {
  it('Perl creates the queue and sends with snd; we receive by type; its stat matches our status', () => {
    const key = removeKeyAfterTest('msg', uniqueKey());
    const made = perl<{ id: number }>(
      `my $q = IPC::Msg->new(${key}, 0640 | IPC_CREAT | IPC_EXCL) or die "new: $!"; ` +
        `$q->snd(2, "two") or die; $q->snd(1, "one") or die; $q->snd(3, "x" x 4000) or die; $q->snd(1, "") or die; ` +
        'print encode_json({ id => $q->id });',
    );
    removeMsgAfterTest(made.id);
    const queue = MessageQueue.open(key);
    expect(queue.id).toBe(made.id);
    const { pid: _pid, received: _received, ...seen } = perlMsg(key);
    expect(seen).toEqual(ourMsgStat(queue));
    expect(seen).toMatchObject({ qnum: 4, mode: 0o640 });
    expect(queue.status().bytes).toBe(3 + 3 + 4000);

    const text = (r: { type: number | bigint; data: Uint8Array } | null) => r && { type: r.type, text: Buffer.from(r.data).toString('latin1') };
    expect(text(queue.receive({ type: 1 }))).toEqual({ type: 1, text: 'one' });
    expect(text(queue.receive({ type: -3 }))).toEqual({ type: 1, text: '' });
    expect(text(queue.receive({ type: 2, except: true }))).toEqual({ type: 3, text: 'x'.repeat(4000) });
    expect(text(queue.receive())).toEqual({ type: 2, text: 'two' });
    expect(perlMsg(key)).toMatchObject({ qnum: 0, lrpid: process.pid });
  });

  it('we send with types; Perl receives with rcv by type (and MSG_NOERROR), and its lspid is ours', () => {
    const key = uniqueKey();
    const queue = MessageQueue.create({ key, mode: 0o600 });
    removeMsgAfterTest(queue.id);
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    queue.send(bytes, { type: 6 });
    queue.send('hello perl', { type: 2 });
    queue.send(new Uint8Array([0, 1, 2, 0]), { type: 6 });
    queue.send(bytes, { type: 9 });

    const before = perlMsg(key);
    expect(before).toMatchObject({ qnum: 4, lspid: process.pid, lrpid: 0 });
    const got = perlMsg(
      key,
      `${receiveEach([2, 6, -9])}; my $buf; my $t = $q->rcv($buf, 10, 0, MSG_NOERROR); push @received, { type => 0 + $t, hex => unpack('H*', $buf) };`,
    );
    expect(got.received).toEqual([
      { type: 2, hex: hex(new TextEncoder().encode('hello perl')) },
      { type: 6, hex: hex(bytes) },
      { type: 6, hex: '00010200' },
      { type: 9, hex: hex(bytes.subarray(0, 10)) }, // truncated by MSG_NOERROR
    ]);
    expect(got).toMatchObject({ qnum: 0, lrpid: got.pid, lspid: process.pid });
    expect(queue.status()).toMatchObject({ messages: 0, bytes: 0, lastReceivePid: got.pid });
  });

  it('qbytes both ways: Perl reads our setMaxBytes, and we read what Perl sets with set(qbytes => ...)', () => {
    const key = uniqueKey();
    const queue = MessageQueue.create({ key, maxBytes: 2048 });
    removeMsgAfterTest(queue.id);
    expect(perlMsg(key).qbytes).toBe(2048);
    queue.setMaxBytes(6000);
    expect(perlMsg(key).qbytes).toBe(6000);
    const { pid: _pid, received: _received, ...seen } = perlMsg(key, '$q->set(qbytes => 3000, mode => 0604) or die "set: $!"');
    expect(seen).toMatchObject({ qbytes: 3000, mode: 0o604 });
    expect(queue.status()).toMatchObject({ maxBytes: 3000, mode: 0o604 });
    expect(seen).toEqual(ourMsgStat(queue));
  });

  it('round trips: Perl echoes our requests; we answer Perl’s', async () => {
    const queue = MessageQueue.create({ key: uniqueKey() });
    removeMsgAfterTest(queue.id);
    const rounds = 40;
    const echo = startPerl(
      `my $q = IPC::Msg->new(${queue.key}, 0) or die; for (1 .. ${rounds}) { my $buf; my $t = $q->rcv($buf, 65536, 1, 0); die "rcv: $!" unless defined $t; $q->snd(2, scalar reverse($buf), 0) or die "snd: $!"; } print encode_json({ echoed => ${rounds} });`,
    );
    for (let i = 0; i < rounds; i++) {
      const request = Uint8Array.from({ length: i % 2 ? 4096 : 64 }, (_, j) => (i + j * 3) & 0xff);
      if (i % 2) {
        expect(queue.send(request, { type: 1 })).toBe(true);
        expect(queue.receive({ type: 2, timeoutMs: 10_000 })).toEqual({ type: 2, data: request.slice().reverse() });
      } else {
        expect(await queue.sendAsync(request, { type: 1 })).toBe(true);
        expect(await queue.receiveAsync({ type: 2, timeoutMs: 10_000 })).toEqual({ type: 2, data: request.slice().reverse() });
      }
    }
    expect(await echo.result).toEqual({ echoed: rounds });

    const client = startPerl<{ ok: number }>(
      `my $q = IPC::Msg->new(${queue.key}, 0) or die; my $ok = 1; for my $i (1 .. ${rounds}) { my $m = join('', map { chr(($i * 5 + $_) % 256) } 0 .. 99); $q->snd(1, $m, 0) or die; my $buf; my $t = $q->rcv($buf, 65536, 2, 0); $ok = 0 unless $t == 2 && $buf eq uc($m); } print encode_json({ ok => $ok });`,
    );
    for (let i = 1; i <= rounds; i++) {
      const request = queue.receive({ type: 1, timeoutMs: 10_000 })!;
      expect(request.data).toEqual(Uint8Array.from({ length: 100 }, (_, j) => (i * 5 + j) % 256));
      // Perl's uc() on a byte string changes a-z only.
      queue.send(
        request.data.map((b) => (b >= 0x61 && b <= 0x7a ? b - 0x20 : b)),
        { type: 2 },
      );
    }
    expect(await client.result).toEqual({ ok: 1 });
  });
});
