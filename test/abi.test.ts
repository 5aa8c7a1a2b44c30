import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { getAbi, hostTarget, listTargets } from '../lib/index.js';
import { koffi, libc, libcHandle, targets, type AbiDescription, type StructLayout } from '../lib/internal.js';
import { TARGETS, compareDescriptions, probeTarget } from '../scripts/abi/probe-runner.js';
import { emulated, ipcInfoShmmax, skipIfEmulated } from './support/emulation.js';

/** The constants the waiting engine needs (doorbell sockets, futex_waitv, its clock and signal mask). */
const WAITING_ENGINE_CONSTANTS = [
  'AF_UNIX',
  'SOCK_STREAM',
  'SOCK_NONBLOCK',
  'SOCK_CLOEXEC',
  'MSG_NOSIGNAL',
  'MSG_DONTWAIT',
  'SOL_SOCKET',
  'SO_SNDBUF',
  'FUTEX_32',
  'FUTEX_WAITV_MAX',
  'CLOCK_MONOTONIC',
  'SIG_BLOCK',
  'SIG_SETMASK',
  'SIGPIPE',
] as const;

const ALL = listTargets();
const configOf = (name: string) => {
  const c = TARGETS.find((t) => t.name === name);
  if (!c) throw new Error(`no generator config for ${name}`);
  return c;
};

// The C compiler for the CPU the tests run on: `cc` on a real machine. On an emulated CPU `cc` builds for the
// machine's own CPU, so the target's cross compiler (the one scripts/abi/generate.ts uses) stands in for it; what it
// builds runs under the same emulator (binfmt_misc).
const HOST_CC = emulated ? configOf(hostTarget()).cc : 'cc';

function hostCc(ctx: TestContext): string {
  if (emulated) {
    try {
      execFileSync(HOST_CC, ['--version'], { stdio: 'ignore' });
    } catch {
      skipIfEmulated(ctx, `${HOST_CC}, the C compiler for the emulated CPU, is not installed (scripts/ci/emulated.sh installs it)`);
    }
  }
  return HOST_CC;
}

describe('host check: committed table == host cc now', () => {
  it(`${hostTarget()} matches a fresh compile of probe.c with ${HOST_CC}`, (ctx) => {
    const name = hostTarget();
    const probed = probeTarget(configOf(name), { cc: hostCc(ctx) });
    const diffs = compareDescriptions(targets[name], probed);
    expect(diffs, `regenerate with: npx tsx scripts/abi/generate.ts ${name}\n${diffs.join('\n')}`).toEqual([]);
  }, 60_000);

  it('compareDescriptions reports field-by-field differences, ignoring provenance', () => {
    const a = targets['linux-x64-gnu'];
    const b = structuredClone(a) as AbiDescription & { structs: { ipc_perm: { fields: Record<string, { offset: number }> } } };
    b.structs.ipc_perm.fields.seq.offset = 26;
    (b.constants as Record<string, number>).IPC_STAT = 99;
    (b.provenance as { compiler: string }).compiler = 'something else';
    expect(compareDescriptions(a, b)).toEqual(['constants.IPC_STAT: committed 2, probed 99', 'structs.ipc_perm.fields.seq.offset: committed 24, probed 26']);
  });
});

// ---------------------------------------------------------------------------
// A real kernel answer, decoded
// ---------------------------------------------------------------------------

const STAT_PROGRAM = String.raw`
#define _GNU_SOURCE 1
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <sys/msg.h>

/* No libc defines it: the caller does (semctl(2)). */
union semun { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *__buf; };

/* The semaphore set and the queue this program makes; removed at exit, whatever happened before. */
static int semid = -1, msqid = -1;
static void remove_ipc(void) {
  if (semid >= 0 && semctl(semid, 0, IPC_RMID) != 0) printf("error sem IPC_RMID %d\n", errno);
  if (msqid >= 0 && msgctl(msqid, IPC_RMID, 0) != 0) printf("error msg IPC_RMID %d\n", errno);
  fflush(stdout);
}

static void hex(const char *tag, const void *p, size_t n) {
  const unsigned char *b = p;
  printf("%s hex=", tag);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}

static void stat_line(const char *tag, int id) {
  struct shmid_ds ds;
  memset(&ds, 0xa5, sizeof ds); /* so unwritten bytes are visible */
  if (shmctl(id, IPC_STAT, &ds) != 0) { printf("error IPC_STAT %d\n", errno); return; }
  hex(tag, &ds, sizeof ds);
  printf("%s key=%d uid=%u gid=%u cuid=%u cgid=%u mode=%u seq=%u segsz=%llu atime=%lld dtime=%lld ctime=%lld cpid=%d lpid=%d nattch=%llu\n",
    tag, (int)ds.shm_perm.__key, (unsigned)ds.shm_perm.uid, (unsigned)ds.shm_perm.gid,
    (unsigned)ds.shm_perm.cuid, (unsigned)ds.shm_perm.cgid, (unsigned)ds.shm_perm.mode,
    (unsigned)ds.shm_perm.__seq, (unsigned long long)ds.shm_segsz,
    (long long)ds.shm_atime, (long long)ds.shm_dtime, (long long)ds.shm_ctime,
    (int)ds.shm_cpid, (int)ds.shm_lpid, (unsigned long long)ds.shm_nattch);
}

static void sem_part(void) {
  semid = semget(IPC_PRIVATE, 3, IPC_CREAT | 0640);
  if (semid < 0) { printf("error semget %d\n", errno); return; }
  printf("semid=%d\n", semid);
  fflush(stdout);
  struct sembuf op = { 1, 2, 0 }; /* semaphore 1 += 2 */
  if (semop(semid, &op, 1) != 0) printf("error semop %d\n", errno);

  struct semid_ds ds;
  union semun arg;
  memset(&ds, 0xa5, sizeof ds);
  arg.buf = &ds;
  if (semctl(semid, 0, IPC_STAT, arg) != 0) printf("error sem IPC_STAT %d\n", errno);
  hex("semstat", &ds, sizeof ds);
  printf("semstat key=%d uid=%u gid=%u cuid=%u cgid=%u mode=%u seq=%u otime=%lld ctime=%lld nsems=%llu\n",
    (int)ds.sem_perm.__key, (unsigned)ds.sem_perm.uid, (unsigned)ds.sem_perm.gid,
    (unsigned)ds.sem_perm.cuid, (unsigned)ds.sem_perm.cgid, (unsigned)ds.sem_perm.mode,
    (unsigned)ds.sem_perm.__seq, (long long)ds.sem_otime, (long long)ds.sem_ctime, (unsigned long long)ds.sem_nsems);
  printf("semval value=%d\n", semctl(semid, 1, GETVAL));

  static const struct { const char *tag; int cmd; } infos[] = { { "semipcinfo", IPC_INFO }, { "seminfo", SEM_INFO } };
  for (int i = 0; i < 2; i++) {
    struct seminfo si;
    memset(&si, 0xa5, sizeof si);
    arg.__buf = &si;
    if (semctl(0, 0, infos[i].cmd, arg) < 0) printf("error %s %d\n", infos[i].tag, errno);
    hex(infos[i].tag, &si, sizeof si);
    printf("%s semmap=%d semmni=%d semmns=%d semmnu=%d semmsl=%d semopm=%d semume=%d semusz=%d semvmx=%d semaem=%d\n",
      infos[i].tag, si.semmap, si.semmni, si.semmns, si.semmnu, si.semmsl, si.semopm, si.semume, si.semusz, si.semvmx, si.semaem);
  }
}

static void msg_part(void) {
  msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
  if (msqid < 0) { printf("error msgget %d\n", errno); return; }
  printf("msqid=%d\n", msqid);
  fflush(stdout);
  struct { long mtype; char mtext[16]; } m1 = { 7, "hello" }, m2 = { 9, "abc" }, got;
  if (msgsnd(msqid, &m1, 5, 0) != 0) printf("error msgsnd %d\n", errno);
  if (msgsnd(msqid, &m2, 3, 0) != 0) printf("error msgsnd %d\n", errno);

  struct msqid_ds ds;
  memset(&ds, 0xa5, sizeof ds);
  if (msgctl(msqid, IPC_STAT, &ds) != 0) printf("error msg IPC_STAT %d\n", errno);
  hex("msgstat", &ds, sizeof ds);
  printf("msgstat key=%d uid=%u gid=%u cuid=%u cgid=%u mode=%u seq=%u stime=%lld rtime=%lld ctime=%lld cbytes=%llu qnum=%llu qbytes=%llu lspid=%d lrpid=%d\n",
    (int)ds.msg_perm.__key, (unsigned)ds.msg_perm.uid, (unsigned)ds.msg_perm.gid,
    (unsigned)ds.msg_perm.cuid, (unsigned)ds.msg_perm.cgid, (unsigned)ds.msg_perm.mode,
    (unsigned)ds.msg_perm.__seq, (long long)ds.msg_stime, (long long)ds.msg_rtime, (long long)ds.msg_ctime,
    (unsigned long long)ds.msg_cbytes, (unsigned long long)ds.msg_qnum, (unsigned long long)ds.msg_qbytes,
    (int)ds.msg_lspid, (int)ds.msg_lrpid);

  static const struct { const char *tag; int cmd; } infos[] = { { "msgipcinfo", IPC_INFO }, { "msginfo", MSG_INFO } };
  for (int i = 0; i < 2; i++) {
    struct msginfo mi;
    memset(&mi, 0xa5, sizeof mi);
    if (msgctl(0, infos[i].cmd, (struct msqid_ds *)(void *)&mi) < 0) printf("error %s %d\n", infos[i].tag, errno);
    hex(infos[i].tag, &mi, sizeof mi);
    printf("%s msgpool=%d msgmap=%d msgmax=%d msgmnb=%d msgmni=%d msgssz=%d msgtql=%d msgseg=%u\n",
      infos[i].tag, mi.msgpool, mi.msgmap, mi.msgmax, mi.msgmnb, mi.msgmni, mi.msgssz, mi.msgtql, (unsigned)mi.msgseg);
  }

  /* The second message as the kernel hands it back: mtype (a long) at 0, the text right after it. */
  memset(&got, 0xa5, sizeof got);
  ssize_t n = msgrcv(msqid, &got, sizeof got.mtext, 9, IPC_NOWAIT);
  if (n < 0) printf("error msgrcv %d\n", errno);
  hex("msgbuf", &got, sizeof(long) + (n > 0 ? (size_t)n : 0));
  printf("msgbuf mtype=%ld size=%zd long=%zu\n", got.mtype, n, sizeof(long));
}

int main(void) {
  atexit(remove_ipc);
  sem_part();
  msg_part();

  int id = shmget(IPC_PRIVATE, 12345, IPC_CREAT | 0640);
  if (id < 0) { printf("error shmget %d\n", errno); return 1; }
  printf("shmid=%d\n", id);
  fflush(stdout);
  void *p = shmat(id, 0, 0);
  if (p == (void *)-1) { printf("error shmat %d\n", errno); shmctl(id, IPC_RMID, 0); return 1; }
  stat_line("attached", id);
  /* Removed now: the segment goes away when this process detaches or exits. */
  if (shmctl(id, IPC_RMID, 0) != 0) printf("error IPC_RMID %d\n", errno);
  stat_line("removed", id);

  struct shminfo si;
  memset(&si, 0xa5, sizeof si);
  if (shmctl(0, IPC_INFO, (struct shmid_ds *)(void *)&si) < 0) printf("error IPC_INFO %d\n", errno);
  hex("ipcinfo", &si, sizeof si);
  printf("ipcinfo shmmax=%llu shmmin=%llu shmmni=%llu shmseg=%llu shmall=%llu\n",
    (unsigned long long)si.shmmax, (unsigned long long)si.shmmin, (unsigned long long)si.shmmni,
    (unsigned long long)si.shmseg, (unsigned long long)si.shmall);

  struct shm_info in;
  memset(&in, 0xa5, sizeof in);
  if (shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&in) < 0) printf("error SHM_INFO %d\n", errno);
  hex("shminfo", &in, sizeof in);
  printf("shminfo used_ids=%d shm_tot=%llu shm_rss=%llu shm_swp=%llu swap_attempts=%llu swap_successes=%llu\n",
    in.used_ids, (unsigned long long)in.shm_tot, (unsigned long long)in.shm_rss, (unsigned long long)in.shm_swp,
    (unsigned long long)in.swap_attempts, (unsigned long long)in.swap_successes);

  printf("pid=%d uid=%u gid=%u now=%lld\n", (int)getpid(), (unsigned)geteuid(), (unsigned)getegid(), (long long)time(0));
  shmdt(p);
  return 0;
}
`;

describe('decoding a real kernel answer (host cc, host kernel)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abi-kernel-'));
  /** What the program made, by ipcs/ipcrm letter: m (the segment), s (the semaphore set), q (the queue). */
  const created: { m?: number; s?: number; q?: number } = {};
  const listed = (kind: 'm' | 's' | 'q', id: number) =>
    execFileSync('ipcs', [`-${kind}`])
      .toString()
      .split('\n')
      .some((l) => l.split(/\s+/)[1] === String(id));

  afterAll(() => {
    // The program removes its segment, set and queue itself (at exit, also after an error); this is the safety net.
    try {
      for (const kind of ['m', 's', 'q'] as const) {
        const id = created[kind];
        if (id === undefined) continue;
        try {
          execFileSync('ipcrm', [`-${kind}`, String(id)], { stdio: 'ignore' });
        } catch {
          /* already gone, as expected */
        }
        expect(listed(kind, id), `ipcs -${kind} still lists ${id}`).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The program's output, compiled and run once for the tests below.
  let output: string | undefined;
  const runProgram = (ctx: TestContext): string => {
    if (output !== undefined) return output;
    const name = hostTarget();
    const src = join(dir, 'stat.c');
    const bin = join(dir, 'stat');
    writeFileSync(src, STAT_PROGRAM);
    execFileSync(hostCc(ctx), [...configOf(name).flags, '-O0', '-o', bin, src]);
    output = execFileSync(bin).toString();
    for (const [kind, name] of [
      ['m', 'shmid'],
      ['s', 'semid'],
      ['q', 'msqid'],
    ] as const) {
      const id = new RegExp(`^${name}=(\\d+)$`, 'm').exec(output);
      if (id) created[kind] = Number(id[1]);
    }
    return output;
  };
  const recordOf = (out: string, tag: string) => {
    const hexLine = new RegExp(`^${tag} hex=([0-9a-f]+)$`, 'm').exec(out);
    const fields = new RegExp(`^${tag} (?!hex=)((?:\\w+=\\S+ ?)+)$`, 'm').exec(out);
    if (!hexLine || !fields) throw new Error(`no ${tag} lines in:\n${out}`);
    const values = Object.fromEntries(
      fields[1]
        .trim()
        .split(' ')
        .map((kv) => kv.split('=') as [string, string]),
    );
    return { bytes: Uint8Array.from(Buffer.from(hexLine[1], 'hex')), values };
  };

  it('IPC_STAT / IPC_INFO / SHM_INFO bytes decode to what C printed', (ctx) => {
    const name = hostTarget();
    const abi = getAbi(name);
    const out = runProgram(ctx);
    expect(out).not.toMatch(/^error/m);

    const record = (tag: string) => recordOf(out, tag);
    const env = Object.fromEntries(
      /^pid=.*$/m
        .exec(out)![0]
        .split(' ')
        .map((kv) => kv.split('=') as [string, string]),
    );

    for (const tag of ['attached', 'removed']) {
      const { bytes, values } = record(tag);
      expect(bytes.length).toBe(abi.sizeof.shmidDs);
      const ds = abi.decodeShmidDs(bytes);
      expect(ds).toEqual({
        perm: {
          key: Number(values.key),
          uid: Number(values.uid),
          gid: Number(values.gid),
          cuid: Number(values.cuid),
          cgid: Number(values.cgid),
          mode: Number(values.mode),
          seq: Number(values.seq),
        },
        segsz: Number(values.segsz),
        atime: Number(values.atime),
        dtime: Number(values.dtime),
        ctime: Number(values.ctime),
        cpid: Number(values.cpid),
        lpid: Number(values.lpid),
        nattch: Number(values.nattch),
      });
      // And what the values must be, independently of C's view.
      expect(ds.segsz).toBe(12345);
      expect(ds.perm.uid).toBe(Number(env.uid));
      expect(ds.perm.cgid).toBe(Number(env.gid));
      expect(ds.cpid).toBe(Number(env.pid));
      expect(ds.lpid).toBe(Number(env.pid));
      expect(ds.nattch).toBe(1);
      expect(ds.perm.mode & 0o777).toBe(0o640);
      expect(ds.perm.key).toBe(abi.constants.IPC_PRIVATE);
    }
    expect(abi.decodeShmidDs(record('attached').bytes).perm.mode & abi.constants.SHM_DEST).toBe(0);
    expect(abi.decodeShmidDs(record('removed').bytes).perm.mode & abi.constants.SHM_DEST).toBe(abi.constants.SHM_DEST);

    const ipc = record('ipcinfo');
    expect(abi.decodeShminfo(ipc.bytes)).toEqual({
      shmmax: BigInt(ipc.values.shmmax),
      shmmin: BigInt(ipc.values.shmmin),
      shmmni: BigInt(ipc.values.shmmni),
      shmseg: BigInt(ipc.values.shmseg),
      shmall: BigInt(ipc.values.shmall),
    });

    const si = record('shminfo');
    expect(abi.decodeShmInfo(si.bytes)).toEqual({
      usedIds: Number(si.values.used_ids),
      shmTot: BigInt(si.values.shm_tot),
      shmRss: BigInt(si.values.shm_rss),
      shmSwp: BigInt(si.values.shm_swp),
      swapAttempts: BigInt(si.values.swap_attempts),
      swapSuccesses: BigInt(si.values.swap_successes),
    });

    // The process has exited: its segment (marked removed) must be gone.
    expect(created.m).toBeTypeOf('number');
    expect(listed('m', created.m!)).toBe(false);
  }, 60_000);

  it('semctl IPC_STAT / IPC_INFO / SEM_INFO and msgctl IPC_STAT / IPC_INFO / MSG_INFO bytes decode to what C printed', (ctx) => {
    const abi = getAbi(hostTarget());
    const out = runProgram(ctx);
    expect(out).not.toMatch(/^error/m);
    const env = Object.fromEntries(
      /^pid=.*$/m
        .exec(out)![0]
        .split(' ')
        .map((kv) => kv.split('=') as [string, string]),
    );
    const num = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]));
    const permOf = (v: Record<string, number>) => ({ key: v.key, uid: v.uid, gid: v.gid, cuid: v.cuid, cgid: v.cgid, mode: v.mode, seq: v.seq });

    // A set of 3, one semop (semaphore 1 += 2).
    const sem = recordOf(out, 'semstat');
    expect(sem.bytes.length).toBe(abi.sizeof.semidDs);
    const sv = num(sem.values);
    const semDs = abi.decodeSemidDs(sem.bytes);
    expect(semDs).toEqual({ perm: permOf(sv), otime: sv.otime, ctime: sv.ctime, nsems: sv.nsems });
    expect(semDs.nsems).toBe(3);
    expect(semDs.perm.mode & 0o777).toBe(0o640);
    expect(semDs.perm.uid).toBe(Number(env.uid));
    expect(semDs.perm.cgid).toBe(Number(env.gid));
    expect(semDs.perm.key).toBe(abi.constants.IPC_PRIVATE);
    expect(/^semval value=(\d+)$/m.exec(out)?.[1]).toBe('2');

    // The limits (IPC_INFO) are /proc/sys/kernel/sem: SEMMSL SEMMNS SEMOPM SEMMNI; SEM_INFO adds what is in use.
    const [semmsl, semmns, semopm, semmni] = readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/).map(Number);
    for (const tag of ['semipcinfo', 'seminfo']) {
      const { bytes, values } = recordOf(out, tag);
      expect(bytes.length).toBe(abi.sizeof.seminfo);
      const info = abi.decodeSeminfo(bytes);
      expect(info).toEqual(num(values));
      expect(info).toMatchObject({ semmsl, semmns, semopm, semmni, semvmx: abi.constants.SEMVMX });
    }
    const semInUse = abi.decodeSeminfo(recordOf(out, 'seminfo').bytes);
    expect(semInUse.semusz).toBeGreaterThanOrEqual(1); // sets
    expect(semInUse.semaem).toBeGreaterThanOrEqual(3); // semaphores

    // A queue with two messages: 5 + 3 bytes.
    const msg = recordOf(out, 'msgstat');
    expect(msg.bytes.length).toBe(abi.sizeof.msqidDs);
    const mv = num(msg.values);
    const msqDs = abi.decodeMsqidDs(msg.bytes);
    expect(msqDs).toEqual({
      perm: permOf(mv),
      stime: mv.stime,
      rtime: mv.rtime,
      ctime: mv.ctime,
      cbytes: mv.cbytes,
      qnum: mv.qnum,
      qbytes: mv.qbytes,
      lspid: mv.lspid,
      lrpid: mv.lrpid,
    });
    const msgmnb = Number(readFileSync('/proc/sys/kernel/msgmnb', 'utf8'));
    expect(msqDs).toMatchObject({ cbytes: 8, qnum: 2, qbytes: msgmnb, lspid: Number(env.pid), lrpid: 0 });
    expect(msqDs.perm.mode & 0o777).toBe(0o640);

    const limits = {
      msgmax: Number(readFileSync('/proc/sys/kernel/msgmax', 'utf8')),
      msgmnb,
      msgmni: Number(readFileSync('/proc/sys/kernel/msgmni', 'utf8')),
    };
    for (const tag of ['msgipcinfo', 'msginfo']) {
      const { bytes, values } = recordOf(out, tag);
      expect(bytes.length).toBe(abi.sizeof.msginfo);
      const info = abi.decodeMsginfo(bytes);
      expect(info).toEqual(num(values));
      expect(info).toMatchObject(limits);
    }
    const msgInUse = abi.decodeMsginfo(recordOf(out, 'msginfo').bytes);
    expect(msgInUse.msgpool).toBeGreaterThanOrEqual(1); // queues
    expect(msgInUse.msgmap).toBeGreaterThanOrEqual(2); // messages
    expect(msgInUse.msgtql).toBeGreaterThanOrEqual(8); // bytes

    // msgrcv's buffer: mtype at 0 (a long), the text at sizeof(long).
    const buf = recordOf(out, 'msgbuf');
    expect(Number(buf.values.long)).toBe(abi.sizeof.long);
    expect(abi.readMsgType(buf.bytes)).toBe(9);
    expect(Buffer.from(buf.bytes.subarray(abi.sizeof.long)).toString()).toBe('abc');
    const mine = new Uint8Array(abi.sizeof.long + 3);
    abi.writeMsgType(mine, 9);
    mine.set(Buffer.from('abc'), abi.sizeof.long);
    expect(mine).toEqual(buf.bytes);

    // The process has exited: its set and queue must be gone.
    expect([created.s, created.q].map((id) => typeof id)).toEqual(['number', 'number']);
    expect(listed('s', created.s!)).toBe(false);
    expect(listed('q', created.q!)).toBe(false);
  }, 60_000);

  it('IPC_STAT times decode to the time of the attach / semop / msgsnd, and 0 for no detach / msgrcv yet', (ctx) => {
    const abi = getAbi(hostTarget());
    if (abi.pointerSize === 4) {
      skipIfEmulated(
        ctx,
        "qemu-user (7.2) writes only the low words of the 32-bit kernel struct's times and leaves shm_atime_high, " +
          'shm_dtime_high and shm_ctime_high (its "__unused" words; the same for semid_ds and msqid_ds) as the caller\'s buffer had them (0xa5a5a5a5 here), ' +
          'which glibc combines into the times; the kernel writes them (the library zeroes its buffer, so it is not affected)',
      );
    }
    const out = runProgram(ctx);
    const env = Object.fromEntries(
      /^pid=.*$/m
        .exec(out)![0]
        .split(' ')
        .map((kv) => kv.split('=') as [string, string]),
    );
    for (const tag of ['attached', 'removed']) {
      const ds = abi.decodeShmidDs(recordOf(out, tag).bytes);
      expect(Math.abs(ds.atime - Number(env.now))).toBeLessThan(120);
      expect(Math.abs(ds.ctime - Number(env.now))).toBeLessThan(120);
      expect(ds.dtime).toBe(0);
    }
    // semop and msgsnd happened, msgrcv not yet (IPC_STAT came first): 0 is "never".
    const now = Number(env.now);
    const sem = abi.decodeSemidDs(recordOf(out, 'semstat').bytes);
    expect(Math.abs(sem.otime - now)).toBeLessThan(120);
    expect(Math.abs(sem.ctime - now)).toBeLessThan(120);
    const msg = abi.decodeMsqidDs(recordOf(out, 'msgstat').bytes);
    expect(Math.abs(msg.stime - now)).toBeLessThan(120);
    expect(Math.abs(msg.ctime - now)).toBeLessThan(120);
    expect(msg.rtime).toBe(0);
  }, 60_000);

  it('IPC_INFO shmmax decodes exactly: beyond 2^53 on 64-bit kernels (clamped to INT_MAX for a 32-bit process)', (ctx) => {
    const abi = getAbi(hostTarget());
    const { expected, emulatorDiffers } = ipcInfoShmmax(BigInt(readFileSync('/proc/sys/kernel/shmmax', 'utf8').trim()), abi.sizeof.long);
    // Under qemu the C program gets what qemu hands a 32-bit guest, not what a real 32-bit process gets.
    if (emulatorDiffers) skipIfEmulated(ctx, ipcInfoShmmax.emulatorReason);
    const ipc = recordOf(runProgram(ctx), 'ipcinfo');
    expect(BigInt(ipc.values.shmmax)).toBe(abi.decodeShminfo(ipc.bytes).shmmax);
    expect(expected).toContain(abi.decodeShminfo(ipc.bytes).shmmax);
  }, 60_000);
});

// ---------------------------------------------------------------------------
// The socket and futex_waitv facts: what a C program sees, and what the kernel does with them
// ---------------------------------------------------------------------------

// An independent C reading of the facts the doorbell and the futex_waitv watcher use (not the probe's markers):
// printed by a program the host compiler builds, with the libc and uapi headers a C user would include.
const SOCKET_FACTS_PROGRAM = String.raw`
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stddef.h>
#include <time.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <linux/time_types.h>

int main(void) {
  printf("const.AF_UNIX=%d\n", (int)AF_UNIX);
  printf("const.SOCK_STREAM=%d\n", (int)SOCK_STREAM);
  printf("const.SOCK_NONBLOCK=%d\n", (int)SOCK_NONBLOCK);
  printf("const.SOCK_CLOEXEC=%d\n", (int)SOCK_CLOEXEC);
  printf("const.MSG_NOSIGNAL=%d\n", (int)MSG_NOSIGNAL);
  printf("const.MSG_DONTWAIT=%d\n", (int)MSG_DONTWAIT);
  printf("const.SOL_SOCKET=%d\n", (int)SOL_SOCKET);
  printf("const.SO_SNDBUF=%d\n", (int)SO_SNDBUF);
  printf("const.FUTEX_32=%d\n", (int)FUTEX_32);
  printf("const.FUTEX_WAITV_MAX=%d\n", (int)FUTEX_WAITV_MAX);
  printf("const.CLOCK_MONOTONIC=%d\n", (int)CLOCK_MONOTONIC);
  printf("const.SIG_BLOCK=%d\n", (int)SIG_BLOCK);
  printf("const.SIG_SETMASK=%d\n", (int)SIG_SETMASK);
  printf("const.SIGPIPE=%d\n", (int)SIGPIPE);
  printf("syscall.futex_waitv=%ld\n", (long)__NR_futex_waitv);
  printf("sizeof.sockaddr_un=%zu\n", sizeof(struct sockaddr_un));
  printf("sockaddr_un.sun_family=%zu/%zu\n", offsetof(struct sockaddr_un, sun_family), sizeof(((struct sockaddr_un *)0)->sun_family));
  printf("sockaddr_un.sun_path=%zu/%zu\n", offsetof(struct sockaddr_un, sun_path), sizeof(((struct sockaddr_un *)0)->sun_path));
  printf("sizeof.futex_waitv=%zu\n", sizeof(struct futex_waitv));
  printf("futex_waitv.val=%zu/%zu\n", offsetof(struct futex_waitv, val), sizeof(((struct futex_waitv *)0)->val));
  printf("futex_waitv.uaddr=%zu/%zu\n", offsetof(struct futex_waitv, uaddr), sizeof(((struct futex_waitv *)0)->uaddr));
  printf("futex_waitv.flags=%zu/%zu\n", offsetof(struct futex_waitv, flags), sizeof(((struct futex_waitv *)0)->flags));
  printf("sizeof.__kernel_timespec=%zu\n", sizeof(struct __kernel_timespec));
  return 0;
}
`;

describe('socket and futex_waitv facts (host cc, host kernel)', () => {
  it('a C program built by the host compiler prints the values of the host table', (ctx) => {
    const name = hostTarget();
    const abi = getAbi(name);
    const dir = mkdtempSync(join(tmpdir(), 'abi-socket-'));
    try {
      const src = join(dir, 'facts.c');
      const bin = join(dir, 'facts');
      writeFileSync(src, SOCKET_FACTS_PROGRAM);
      execFileSync(hostCc(ctx), [...configOf(name).flags, '-O0', '-o', bin, src]);
      const printed = Object.fromEntries(
        execFileSync(bin)
          .toString()
          .trim()
          .split('\n')
          .map((line) => line.split('=') as [string, string]),
      );
      const layout = (s: StructLayout, f: string) => `${s.fields[f].offset}/${s.fields[f].size}`;
      const d = abi.description;
      const expected: Record<string, string> = {
        'syscall.futex_waitv': String(abi.syscalls.futex_waitv),
        'sizeof.sockaddr_un': String(abi.sizeof.sockaddrUn),
        'sockaddr_un.sun_family': layout(d.structs.sockaddr_un, 'sun_family'),
        'sockaddr_un.sun_path': layout(d.structs.sockaddr_un, 'sun_path'),
        'sizeof.futex_waitv': String(abi.sizeof.futexWaitv),
        'futex_waitv.val': layout(d.kernelStructs.futex_waitv, 'val'),
        'futex_waitv.uaddr': layout(d.kernelStructs.futex_waitv, 'uaddr'),
        'futex_waitv.flags': layout(d.kernelStructs.futex_waitv, 'flags'),
        'sizeof.__kernel_timespec': String(abi.sizeof.kernelTimespec),
      };
      for (const c of WAITING_ENGINE_CONSTANTS) {
        expected[`const.${c}`] = String(abi.constants[c]);
      }
      expect(printed).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("the kernel takes futex_waitv with the table's number, layout and flags: EAGAIN on a changed word, ETIMEDOUT at a past deadline", (ctx) => {
    const abi = getAbi();
    const c = abi.constants;
    // syscall(2) with a fixed prototype, as lib/native/syscall.ts binds it for futex (and argues why it is safe).
    const syscall = libcHandle().func('long syscall(long nr, void *waiters, long nr_futexes, long flags, void *timeout, long clockid)');
    const call = (...args: unknown[]) => {
      const r = Number(syscall(abi.syscalls.futex_waitv, ...args));
      return r === -1 ? -koffi().errno() : r;
    };
    const { mmap, munmap, MAP_FAILED, pageSize } = libc();
    // A zeroed anonymous page holds the word, so its value (0) is known.
    const page = mmap(null, pageSize, c.PROT_READ | c.PROT_WRITE, c.MAP_PRIVATE | c.MAP_ANONYMOUS, -1, 0);
    expect(page).not.toBe(MAP_FAILED);
    try {
      const flags = c.FUTEX_32 | c.FUTEX_PRIVATE_FLAG;
      const changed = abi.encodeFutexWaitv([{ uaddr: page, val: 1, flags }]);
      const first = call(changed, 1, 0, null, 0);
      if (first === -abi.errno.ENOSYS) skipIfEmulated(ctx, 'the emulator has no futex_waitv');
      expect(first, abi.errnoName(-first)).toBe(-abi.errno.EAGAIN);
      // A deadline already past (absolute, CLOCK_MONOTONIC 0 s): the word matches, the wait ends at once.
      const past = new Uint8Array(abi.sizeof.kernelTimespec);
      const same = abi.encodeFutexWaitv([
        { uaddr: page + 64n, val: 1, flags },
        { uaddr: page, val: 0, flags },
      ]);
      expect(call(same, 2, 0, past, c.CLOCK_MONOTONIC)).toBe(-abi.errno.EAGAIN); // the first entry does not match
      const matching = abi.encodeFutexWaitv([{ uaddr: page, val: 0, flags }]);
      expect(call(matching, 1, 0, past, c.CLOCK_MONOTONIC)).toBe(-abi.errno.ETIMEDOUT);
      // What a wrong layout or flag would get: EINVAL (the reserved word set; a size flag that is not FUTEX_32).
      const reserved = abi.encodeFutexWaitv([{ uaddr: page, val: 0, flags }]);
      reserved[abi.description.kernelStructs.futex_waitv.fields.flags.offset + 4] = 1;
      expect(call(reserved, 1, 0, past, c.CLOCK_MONOTONIC)).toBe(-abi.errno.EINVAL);
      expect(call(abi.encodeFutexWaitv([{ uaddr: page, val: 0, flags: 3 }]), 1, 0, past, c.CLOCK_MONOTONIC)).toBe(-abi.errno.EINVAL);
      // At most FUTEX_WAITV_MAX waiters.
      const tooMany = abi.encodeFutexWaitv(Array.from({ length: c.FUTEX_WAITV_MAX + 1 }, () => ({ uaddr: page, val: 1, flags })));
      expect(call(tooMany, c.FUTEX_WAITV_MAX + 1, 0, past, c.CLOCK_MONOTONIC)).toBe(-abi.errno.EINVAL);
    } finally {
      munmap(page, pageSize);
    }
  });
});

// ---------------------------------------------------------------------------
// Every committed target
// ---------------------------------------------------------------------------

function checkLayout(target: string, name: string, s: StructLayout) {
  const fields = Object.entries(s.fields).sort(([, a], [, b]) => a.offset - b.offset);
  let end = 0;
  let prev = '';
  for (const [f, l] of fields) {
    expect(l.offset, `${target} ${name}.${f} overlaps ${prev}`).toBeGreaterThanOrEqual(end);
    expect(l.offset + l.size, `${target} ${name}.${f} outside the struct`).toBeLessThanOrEqual(s.size);
    if (l.signed !== null) {
      expect([1, 2, 4, 8], `${target} ${name}.${f} size`).toContain(l.size);
      expect(l.offset % Math.min(l.size, 4), `${target} ${name}.${f} misaligned`).toBe(0);
    }
    end = l.offset + l.size;
    prev = f;
  }
}

describe.each(ALL)('target %s', (name) => {
  const d = targets[name];
  const abi = getAbi(name);

  it('has a consistent, sane layout', () => {
    expect(d.target).toBe(name);
    expect(name).toBe(`linux-${d.arch}-${d.libc === 'glibc' ? 'gnu' : 'musl'}${name.endsWith('-time64') ? '-time64' : ''}`);
    // union semun's members all start at 0 (checked in its own test).
    for (const [sname, s] of Object.entries({ ...d.structs, ...d.kernelStructs })) if (sname !== 'semun') checkLayout(name, sname, s);
    const ipc = d.structs.ipc_perm.fields;
    const ds = d.structs.shmid_ds.fields;
    expect(Object.keys(ipc).sort()).toEqual(['cgid', 'cuid', 'gid', 'key', 'mode', 'seq', 'uid']);
    expect(ds.shm_perm).toEqual({ offset: 0, size: d.structs.ipc_perm.size, signed: null });
    expect(ipc.key).toMatchObject({ size: 4, signed: true });
    for (const f of ['uid', 'gid', 'cuid', 'cgid'] as const) expect(ipc[f]).toMatchObject({ size: 4, signed: false });
    expect(ds.shm_segsz).toMatchObject({ size: d.pointerSize, signed: false });
    expect(ds.shm_cpid).toMatchObject({ size: 4, signed: true });
    expect(d.structs.shminfo.fields.shmmax).toMatchObject({ size: d.sizeofLong, signed: false });
    expect(d.sizeofLong).toBe(d.pointerSize);
    expect(d.time64).toBe(d.sizeofTimeT === 8);
    expect(d.structs.timespec.fields.tv_sec.size).toBe(d.sizeofTimeT);
    expect(abi.sizeof).toEqual({
      ipcPerm: d.structs.ipc_perm.size,
      shmidDs: d.structs.shmid_ds.size,
      shminfo: d.structs.shminfo.size,
      shmInfo: d.structs.shm_info.size,
      timespec: d.structs.timespec.size,
      long: d.sizeofLong,
      sockaddrUn: d.structs.sockaddr_un.size,
      futexWaitv: d.kernelStructs.futex_waitv.size,
      kernelTimespec: d.kernelStructs.__kernel_timespec.size,
      semidDs: d.structs.semid_ds.size,
      msqidDs: d.structs.msqid_ds.size,
      seminfo: d.structs.seminfo.size,
      msginfo: d.structs.msginfo.size,
      sembuf: d.structs.sembuf.size,
      semun: d.structs.semun.size,
    });
  });

  it('semaphore and queue structs have the shapes semop(2), semctl(2) and msgctl(2) use', () => {
    // union semun is one pointer, passed by value, with int val at byte 0.
    expect(d.structs.semun).toEqual({
      size: d.pointerSize,
      align: d.pointerSize,
      fields: {
        val: { offset: 0, size: 4, signed: true },
        buf: { offset: 0, size: d.pointerSize, signed: false },
        array: { offset: 0, size: d.pointerSize, signed: false },
      },
    });
    expect(d.structs.sembuf).toEqual({
      size: 6,
      fields: {
        sem_num: { offset: 0, size: 2, signed: false },
        sem_op: { offset: 2, size: 2, signed: true },
        sem_flg: { offset: 4, size: 2, signed: true },
      },
    });
    // seminfo: 10 ints; msginfo: 7 ints and an unsigned short.
    expect(d.structs.seminfo.size).toBe(40);
    expect(Object.values(d.structs.seminfo.fields).map((f) => `${f.offset}/${f.size}/${f.signed}`)).toEqual(
      Array.from({ length: 10 }, (_, i) => `${4 * i}/4/true`),
    );
    expect(d.structs.msginfo.size).toBe(32);
    expect(d.structs.msginfo.fields.msgseg).toEqual({ offset: 28, size: 2, signed: false });
    const sem = d.structs.semid_ds.fields;
    const msq = d.structs.msqid_ds.fields;
    expect(sem.sem_perm).toEqual({ offset: 0, size: d.structs.ipc_perm.size, signed: null });
    expect(msq.msg_perm).toEqual({ offset: 0, size: d.structs.ipc_perm.size, signed: null });
    for (const f of ['msg_cbytes', 'msg_qnum', 'msg_qbytes'] as const) expect(msq[f], `${name} ${f}`).toMatchObject({ size: d.sizeofLong, signed: false });
    for (const f of ['msg_lspid', 'msg_lrpid'] as const) expect(msq[f]).toMatchObject({ size: 4, signed: true });
    for (const f of ['sem_otime', 'sem_ctime']) expect(sem[f].size).toBe(d.sizeofTimeT);
    for (const f of ['msg_stime', 'msg_rtime', 'msg_ctime']) expect(msq[f].size).toBe(d.sizeofTimeT);
    // Every 4-byte time (legacy 32-bit) has its high word; a *_high word beside an 8-byte time is one of x86-64's
    // or mips64's reserved words, with a note (the decoders ignore it).
    for (const [ds, times] of [
      [d.structs.shmid_ds.fields, ['shm_atime', 'shm_dtime', 'shm_ctime']],
      [sem, ['sem_otime', 'sem_ctime']],
      [msq, ['msg_stime', 'msg_rtime', 'msg_ctime']],
    ] as const) {
      for (const t of times) {
        const high = ds[`${t}_high`];
        if (ds[t].size === 4) expect(high, `${name} ${t}_high`).toMatchObject({ size: 4, signed: false });
        else if (high) expect(d.notes.join('\n')).toContain(`${t}_high: 8 bytes at offset ${high.offset} beside the 8-byte ${t}`);
      }
    }
  });

  it('sockaddr_un, futex_waitv and __kernel_timespec have the layouts bind(2) and futex_waitv(2) read', () => {
    // bind(2)/connect(2) hand libc's sockaddr_un to the kernel as it is: both headers must agree.
    expect(d.structs.sockaddr_un).toEqual(d.kernelStructs.sockaddr_un);
    const un = d.structs.sockaddr_un.fields;
    expect(un.sun_family).toMatchObject({ offset: 0, size: 2, signed: false });
    expect(un.sun_path).toMatchObject({ offset: 2, signed: null });
    expect(un.sun_path.size).toBeGreaterThanOrEqual(108);
    expect(d.structs.sockaddr_un.size).toBe(un.sun_path.offset + un.sun_path.size);
    // struct futex_waitv is made of __u64, __u64, __u32, __u32: the same bytes on every target but for endianness.
    expect(d.kernelStructs.futex_waitv).toEqual({
      size: 24,
      fields: {
        val: { offset: 0, size: 8, signed: false },
        uaddr: { offset: 8, size: 8, signed: false },
        flags: { offset: 16, size: 4, signed: false },
      },
    });
    // futex_waitv's timeout is 64-bit everywhere, also where libc's timespec is not (legacy 32-bit).
    expect(d.kernelStructs.__kernel_timespec).toEqual({
      size: 16,
      fields: { tv_sec: { offset: 0, size: 8, signed: true }, tv_nsec: { offset: 8, size: 8, signed: true } },
    });
  });

  it('libc and kernel headers agree wherever both define a value', () => {
    expect(d.notes.filter((n) => n.includes('headers say'))).toEqual([]);
  });

  it('has every constant, errno and syscall the library needs', () => {
    for (const c of [
      'IPC_PRIVATE',
      'IPC_CREAT',
      'IPC_EXCL',
      'IPC_NOWAIT',
      'IPC_RMID',
      'IPC_SET',
      'IPC_STAT',
      'IPC_INFO',
      'SHM_RDONLY',
      'SHM_RND',
      'SHM_REMAP',
      'SHM_EXEC',
      'SHM_LOCK',
      'SHM_UNLOCK',
      'SHM_STAT',
      'SHM_INFO',
      'SHM_STAT_ANY',
      'SHM_HUGETLB',
      'SHM_NORESERVE',
      'SHM_HUGE_SHIFT',
      'SHM_HUGE_2MB',
      'SHM_HUGE_1GB',
      'SHM_DEST',
      'SHM_LOCKED',
      'PROT_NONE',
      'PROT_READ',
      'PROT_WRITE',
      'MAP_SHARED',
      'MAP_PRIVATE',
      'MAP_ANONYMOUS',
      'MAP_FIXED',
      'MAP_NORESERVE',
      'MAP_FIXED_NOREPLACE',
      'FUTEX_WAIT',
      'FUTEX_WAKE',
      'FUTEX_PRIVATE_FLAG',
      'FUTEX_WAIT_BITSET',
      'FUTEX_BITSET_MATCH_ANY',
      'FUTEX_CLOCK_REALTIME',
      ...WAITING_ENGINE_CONSTANTS,
      'CLOCK_REALTIME',
      'SIG_UNBLOCK',
      '_SC_PAGESIZE',
    ]) {
      expect(abi.constants[c], `${name} ${c}`).toBeTypeOf('number');
    }
    for (const c of [
      'SEM_UNDO',
      'GETPID',
      'GETVAL',
      'GETALL',
      'GETNCNT',
      'GETZCNT',
      'SETVAL',
      'SETALL',
      'SEM_STAT',
      'SEM_INFO',
      'SEM_STAT_ANY',
      'MSG_NOERROR',
      'MSG_EXCEPT',
      'MSG_COPY',
      'MSG_STAT',
      'MSG_INFO',
      'MSG_STAT_ANY',
      'SEMVMX',
      'SEMMSL',
      'SEMOPM',
      'SEMMNI',
      'SEMAEM',
      'MSGMAX',
      'MSGMNB',
      'MSGMNI',
    ]) {
      expect(abi.constants[c], `${name} ${c}`).toBeTypeOf('number');
    }
    // Linux's numbers, the same on every target here (no 32-bit time64 musl, whose *_STAT carry IPC_STAT's 0x100).
    expect(abi.constants).toMatchObject({
      SEM_UNDO: 0x1000,
      GETPID: 11,
      GETVAL: 12,
      GETALL: 13,
      GETNCNT: 14,
      GETZCNT: 15,
      SETVAL: 16,
      SETALL: 17,
      SEM_STAT: 18,
      SEM_INFO: 19,
      SEM_STAT_ANY: 20,
      MSG_NOERROR: 0o10000,
      MSG_EXCEPT: 0o20000,
      MSG_COPY: 0o40000,
      MSG_STAT: 11,
      MSG_INFO: 12,
      MSG_STAT_ANY: 13,
      SEMVMX: 32767,
    });
    // The SEM*/MSG* limits are in <linux/sem.h> / <linux/msg.h> only.
    expect(d.fromKernelHeaders.constants).toEqual(expect.arrayContaining(['SEMVMX', 'SEMMSL', 'SEMOPM', 'SEMMNI', 'SEMAEM', 'MSGMAX', 'MSGMNB', 'MSGMNI']));
    for (const s of ['semget', 'semop', 'semtimedop', 'semctl', 'msgget', 'msgsnd', 'msgrcv', 'msgctl'] as const) {
      expect(abi.symbols[s], `${name} ${s}`).toMatch(new RegExp(`^(__)?${s}`));
    }
    expect('SHMLBA_PAGES' in abi.constants !== 'SHMLBA_BYTES' in abi.constants).toBe(true);
    expect(abi.constants.SHM_HUGE_2MB).toBe(21 << abi.constants.SHM_HUGE_SHIFT);
    for (const e of ['EPERM', 'ENOENT', 'EINTR', 'EAGAIN', 'ENOMEM', 'EACCES', 'EEXIST', 'EINVAL', 'ENOSPC', 'ENOSYS', 'EIDRM', 'ETIMEDOUT', 'EOVERFLOW']) {
      expect(abi.errno[e], `${name} ${e}`).toBeTypeOf('number');
    }
    expect(Object.keys(abi.errno).length).toBeGreaterThan(120);
    for (const s of ['futex', 'futex_waitv', 'getpid', 'gettid', 'pidfd_open', 'kill', 'tgkill']) expect(abi.syscalls[s]).toBeTypeOf('number');
    expect('futex_time64' in abi.syscalls).toBe(d.pointerSize === 4);
    // The kernel defines the socket type flags as the file flags (<linux/net.h>: SOCK_NONBLOCK = O_NONBLOCK).
    expect(abi.constants.SOCK_NONBLOCK).toBe(abi.constants.O_NONBLOCK);
    expect(abi.constants.SOCK_CLOEXEC).toBe(abi.constants.O_CLOEXEC);
    // FUTEX_32 and FUTEX_WAITV_MAX are in <linux/futex.h> only (no libc header has them, nor struct futex_waitv).
    expect(d.fromKernelHeaders.constants).toEqual(expect.arrayContaining(['FUTEX_32', 'FUTEX_WAITV_MAX']));
    expect([abi.constants.FUTEX_32, abi.constants.FUTEX_WAITV_MAX]).toEqual([2, 128]);
  });

  it('errnoName prefers the canonical name of aliases', () => {
    expect(abi.errnoName(abi.errno.ENOENT)).toBe('ENOENT');
    expect(abi.errnoName(abi.errno.EWOULDBLOCK)).toBe('EAGAIN');
    expect(abi.errnoName(abi.errno.ENOTSUP)).toBe('EOPNOTSUPP');
    expect(abi.errnoName(abi.errno.EDEADLK)).toBe('EDEADLK');
    expect(abi.errnoName(-1)).toBeUndefined();
    for (const v of Object.values(abi.errno)) expect(abi.errno[abi.errnoName(v)!]).toBe(v);
  });

  it('on 64-bit, the libc ipc_perm matches the kernel ipc64_perm offsets (buffer passed unchanged)', () => {
    if (d.pointerSize !== 8) return;
    const k = d.kernelStructs.ipc64_perm;
    expect(d.structs.ipc_perm.size).toBe(k.size);
    for (const [f, l] of Object.entries(d.structs.ipc_perm.fields)) expect(l.offset, `${name} ${f}`).toBe(k.fields[f].offset);
    expect(d.structs.shmid_ds.size).toBe(d.kernelStructs.shmid64_ds.size);
    for (const [f, l] of Object.entries(d.structs.shmid_ds.fields)) expect(l).toEqual(d.kernelStructs.shmid64_ds.fields[f]);
  });

  it('on 64-bit, semid_ds and msqid_ds are the kernel semid64_ds / msqid64_ds (reserved words aside; musl sem_nsems noted)', () => {
    if (d.pointerSize !== 8) return;
    for (const [l, k] of [
      [d.structs.semid_ds, d.kernelStructs.semid64_ds],
      [d.structs.msqid_ds, d.kernelStructs.msqid64_ds],
    ] as const) {
      expect(l.size).toBe(k.size);
      for (const [f, kl] of Object.entries(k.fields)) {
        if (name === 'linux-x64-musl' && f === 'sem_nsems') {
          expect(l.fields[f]).toEqual({ ...kl, size: 2 });
          expect(d.notes.join('\n')).toMatch(/semid_ds\.sem_nsems: libc reads 2 bytes at offset 80, the kernel writes 8/);
        } else {
          expect(l.fields[f], `${name} ${f}`).toEqual(kl);
        }
      }
      // What libc has beyond the kernel's fields are its names for the kernel's reserved words.
      for (const f of Object.keys(l.fields).filter((f) => !(f in k.fields))) expect(f, name).toMatch(/_high$/);
    }
  });

  it('has a generated header naming the compiler and headers', () => {
    const text = readFileSync(new URL(`../lib/abi/targets/${name}.ts`, import.meta.url), 'utf8');
    const [mark, provenance] = text.split('\n');
    expect(mark).toBe('// Code generated by scripts/abi/generate.ts; DO NOT EDIT.');
    expect(provenance).toMatch(/^\/\/ From scripts\/abi\/probe\.c with .*gcc \d+\.\d+\.\d+.*, (glibc|musl) [\d.]+ headers.*, Linux [\d.]+ uapi headers.*\.$/);
  });
});

describe('known traps', () => {
  it('ppc64le keeps the times before shm_segsz, and seq is 32-bit', () => {
    const d = targets['linux-ppc64-gnu'];
    const ds = d.structs.shmid_ds.fields;
    expect(ds.shm_atime.offset).toBeLessThan(ds.shm_segsz.offset);
    expect(ds.shm_ctime.offset).toBeLessThan(ds.shm_segsz.offset);
    expect(d.structs.ipc_perm.fields.seq.size).toBe(4);
    expect(d.littleEndian).toBe(true);
  });

  it('musl seq is a 32-bit int; glibc (non-ppc) seq is 16-bit', () => {
    expect(targets['linux-x64-musl'].structs.ipc_perm.fields.seq).toEqual({ offset: 24, size: 4, signed: true });
    expect(targets['linux-x64-gnu'].structs.ipc_perm.fields.seq).toEqual({ offset: 24, size: 2, signed: false });
    expect(targets['linux-x64-musl'].notes.join('\n')).toMatch(/ipc_perm\.seq: libc reads 4 bytes/);
  });

  it('mips64el errno values differ (EIDRM 36), others are the asm-generic ones', () => {
    expect(getAbi('linux-mips64el-gnu').errno.EIDRM).toBe(36);
    for (const t of ALL.filter((t) => !t.startsWith('linux-mips'))) expect(getAbi(t).errno.EIDRM, t).toBe(43);
  });

  it('mips64el has its own socket and sigprocmask numbers and n64 syscall numbers (futex_waitv 5449); the others the generic ones', () => {
    const mips = getAbi('linux-mips64el-gnu');
    expect(mips.syscalls.futex_waitv).toBe(5449);
    expect(mips.constants).toMatchObject({ SOCK_STREAM: 2, SOCK_NONBLOCK: 0x80, SOL_SOCKET: 0xffff, SO_SNDBUF: 0x1001, SIG_BLOCK: 1, SIG_SETMASK: 3 });
    for (const t of ALL.filter((t) => !t.startsWith('linux-mips'))) {
      const abi = getAbi(t);
      expect(abi.syscalls.futex_waitv, t).toBe(449);
      expect(abi.constants, t).toMatchObject({
        SOCK_STREAM: 1,
        SOCK_NONBLOCK: 0o4000,
        SOCK_CLOEXEC: 0o2000000,
        SOL_SOCKET: 1,
        SO_SNDBUF: 7,
        SIG_BLOCK: 0,
        SIG_SETMASK: 2,
      });
    }
    for (const t of ALL) expect(getAbi(t).constants, t).toMatchObject({ MSG_DONTWAIT: 0x40, MSG_NOSIGNAL: 0x4000, AF_UNIX: 1, SIGPIPE: 13 });
  });

  it('musl 1.2.3 has no SYS_futex_waitv: its number comes from the kernel headers, and says so', () => {
    expect(targets['linux-x64-musl'].fromKernelHeaders.syscalls).toEqual(['futex_waitv']);
    expect(targets['linux-x64-musl'].syscalls.futex_waitv).toBe(targets['linux-x64-gnu'].syscalls.futex_waitv);
    for (const t of ALL.filter((t) => targets[t].libc === 'glibc')) expect(targets[t].fromKernelHeaders.syscalls, t).toEqual([]);
  });

  it('32-bit legacy targets have the *_high words and call shmctl; their time64 twins do not and call __shmctl64', () => {
    for (const base of ['linux-arm-gnu', 'linux-ia32-gnu']) {
      const legacy = targets[base];
      const t64 = targets[`${base}-time64`];
      for (const f of ['shm_atime_high', 'shm_dtime_high', 'shm_ctime_high']) {
        expect(legacy.structs.shmid_ds.fields[f], `${base} ${f}`).toBeDefined();
        expect(t64.structs.shmid_ds.fields[f], `${base}-time64 ${f}`).toBeUndefined();
      }
      expect(legacy.symbols.shmctl).toBe('shmctl');
      expect(t64.symbols.shmctl).toBe('__shmctl64');
      expect([legacy.time64, t64.time64]).toEqual([false, true]);
      expect(legacy.structs.shmid_ds.fields.shm_atime.size).toBe(4);
      expect(t64.structs.shmid_ds.fields.shm_atime.size).toBe(8);
      expect(t64.structs.timespec.size).toBe(16);
      expect(t64.structs.ipc_perm).toEqual(legacy.structs.ipc_perm);
    }
    for (const t of ALL.filter((t) => targets[t].pointerSize === 8)) expect(targets[t].symbols.shmctl, t).toBe('shmctl');
  });

  it('semid_ds / msqid_ds: size and the offsets (size) of the times, counts and pids, per target', () => {
    // docs/design/semaphores-and-queues.md section 1, "Layouts to expect"; t = time, h = its *_high word.
    const at = (s: StructLayout, f: string) => (s.fields[f] ? `${s.fields[f].offset}(${s.fields[f].size})` : '-');
    const semOf = (t: string) => {
      const s = targets[t].structs.semid_ds;
      return `${s.size}: ${['sem_otime', 'sem_otime_high', 'sem_ctime', 'sem_ctime_high', 'sem_nsems'].map((f) => at(s, f)).join(' ')}`;
    };
    const msqOf = (t: string) => {
      const s = targets[t].structs.msqid_ds;
      const fields = ['msg_stime', 'msg_stime_high', 'msg_rtime', 'msg_rtime_high', 'msg_ctime', 'msg_ctime_high'];
      return `${s.size}: ${[...fields, 'msg_cbytes', 'msg_qnum', 'msg_qbytes', 'msg_lspid', 'msg_lrpid'].map((f) => at(s, f)).join(' ')}`;
    };
    const generic64 = { sem: '88: 48(8) - 56(8) - 64(8)', msq: '120: 48(8) - 56(8) - 64(8) - 72(8) 80(8) 88(8) 96(4) 100(4)' };
    const legacy32 = { sem: '64: 36(4) 40(4) 44(4) 48(4) 52(4)', msq: '88: 36(4) 40(4) 44(4) 48(4) 52(4) 56(4) 60(4) 64(4) 68(4) 72(4) 76(4)' };
    const expected: Record<string, { sem: string; msq: string }> = {
      // x86-64 keeps a reserved word after each semaphore time; glibc names them __sem_*time_high.
      'linux-x64-gnu': { sem: '104: 48(8) 56(8) 64(8) 72(8) 80(8)', msq: generic64.msq },
      // musl: unsigned short sem_nsems + pad.
      'linux-x64-musl': { sem: '104: 48(8) - 64(8) - 80(2)', msq: generic64.msq },
      'linux-arm64-gnu': generic64,
      'linux-riscv64-gnu': generic64,
      'linux-loong64-gnu': generic64,
      'linux-ppc64-gnu': generic64,
      'linux-s390x-gnu': generic64,
      // mips64 glibc names the trailing reserved words __sem_*time_high.
      'linux-mips64el-gnu': { sem: '88: 48(8) 72(8) 56(8) 80(8) 64(8)', msq: generic64.msq },
      'linux-ia32-gnu': legacy32,
      'linux-arm-gnu': legacy32,
      'linux-ia32-gnu-time64': { sem: '64: 36(8) - 44(8) - 52(4)', msq: '88: 36(8) - 44(8) - 52(8) - 60(4) 64(4) 68(4) 72(4) 76(4)' },
      'linux-arm-gnu-time64': { sem: '72: 40(8) - 48(8) - 56(4)', msq: '96: 40(8) - 48(8) - 56(8) - 64(4) 68(4) 72(4) 76(4) 80(4)' },
    };
    expect(Object.keys(expected).sort()).toEqual(ALL);
    for (const t of ALL) expect({ sem: semOf(t), msq: msqOf(t) }, t).toEqual(expected[t]);
  });

  it('x86-64 glibc and mips64 glibc: the reserved words named __sem_*time_high are recorded, noted and ignored', () => {
    for (const t of ['linux-x64-gnu', 'linux-mips64el-gnu']) {
      const abi = getAbi(t);
      const f = abi.description.structs.semid_ds.fields;
      expect(abi.description.notes.join('\n'), t).toMatch(/semid_ds\.sem_otime_high: 8 bytes .* not a high half: the decoders ignore it/);
      const bytes = new Uint8Array(abi.sizeof.semidDs);
      const v = new DataView(bytes.buffer);
      v.setBigInt64(f.sem_otime.offset, 1_700_000_000n, true);
      v.setBigInt64(f.sem_ctime.offset, 1_600_000_000n, true);
      v.setBigUint64(f.sem_otime_high.offset, 0xa5a5a5a5a5a5a5a5n, true);
      v.setBigUint64(f.sem_ctime_high.offset, 1n, true);
      v.setBigUint64(f.sem_nsems.offset, 3n, true);
      expect(abi.decodeSemidDs(bytes), t).toMatchObject({ otime: 1_700_000_000, ctime: 1_600_000_000, nsems: 3 });
    }
  });

  it('musl has no MSG_COPY: it comes from <linux/msg.h>, and says so; glibc has it', () => {
    expect(targets['linux-x64-musl'].fromKernelHeaders.constants).toContain('MSG_COPY');
    for (const t of ALL.filter((t) => targets[t].libc === 'glibc')) expect(targets[t].fromKernelHeaders.constants, t).not.toContain('MSG_COPY');
    expect(targets['linux-x64-musl'].constants.MSG_COPY).toBe(targets['linux-x64-gnu'].constants.MSG_COPY);
  });

  it('32-bit glibc time64 binds __semctl64, __semtimedop64, __msgctl64; the legacy layout and 64-bit targets the plain names', () => {
    const plain = { semget: 'semget', semop: 'semop', msgget: 'msgget', msgsnd: 'msgsnd', msgrcv: 'msgrcv' };
    for (const base of ['linux-arm-gnu', 'linux-ia32-gnu']) {
      expect(targets[base].symbols).toMatchObject({ ...plain, semctl: 'semctl', semtimedop: 'semtimedop', msgctl: 'msgctl' });
      expect(targets[`${base}-time64`].symbols).toMatchObject({ ...plain, semctl: '__semctl64', semtimedop: '__semtimedop64', msgctl: '__msgctl64' });
      expect(targets[`${base}-time64`].notes.join('\n')).toMatch(/semid_ds: the libc layout .* __semctl64 converts/);
    }
    for (const t of ALL.filter((t) => targets[t].pointerSize === 8)) {
      expect(targets[t].symbols, t).toMatchObject({ ...plain, semctl: 'semctl', semtimedop: 'semtimedop', msgctl: 'msgctl' });
    }
  });

  it("s390x (big-endian 64-bit): SETVAL's union semun puts val in the high half of the register", () => {
    const s390 = getAbi('linux-s390x-gnu');
    expect(s390.semunValue(5)).toBe(5n << 32n);
    // The bytes of that 64-bit integer in s390x order: val (big-endian int) at offset 0.
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, s390.semunValue(-2) as bigint, false);
    expect(new DataView(bytes.buffer).getInt32(0, false)).toBe(-2);
    for (const t of ALL.filter((t) => t !== 'linux-s390x-gnu')) expect(getAbi(t).semunValue(5), t).toBe(5);
  });

  it('s390x: seq is taken at the offset the kernel writes (26), with the reason recorded', () => {
    const d = targets['linux-s390x-gnu'];
    expect(d.littleEndian).toBe(false);
    expect(d.kernelStructs.ipc64_perm.fields.seq.offset).toBe(26);
    expect(d.structs.ipc_perm.fields.seq).toEqual({ offset: 26, size: 2, signed: false });
    expect(d.notes.join('\n')).toMatch(/ipc_perm\.seq: the libc header puts it at offset 24 .* kernel's offset and size are used/);
  });

  it('loong64 (from the Debian 13 cross compiler) has the generic 64-bit layout of riscv64, and a fixed 64 KiB SHMLBA', () => {
    const loong = targets['linux-loong64-gnu'];
    const riscv = targets['linux-riscv64-gnu'];
    expect(ALL).toContain('linux-loong64-gnu');
    expect(loong.structs).toEqual(riscv.structs);
    expect(loong.kernelStructs).toEqual(riscv.kernelStructs);
    expect(loong.errno).toEqual(riscv.errno);
    expect(loong.syscalls).toEqual(riscv.syscalls);
    // glibc's loongarch bits/shmlba.h and the kernel's asm/shmparam.h (__ARCH_FORCE_SHMLBA) both say 0x10000.
    expect(loong.constants.SHMLBA_BYTES).toBe(65536);
    expect(getAbi('linux-loong64-gnu').symbols.shmctl).toBe('shmctl');
  });
});

describe('getAbi / hostTarget / listTargets', () => {
  it('returns the host target by default, cached', () => {
    expect(hostTarget()).toMatch(/^linux-/);
    expect(getAbi()).toBe(getAbi(hostTarget()));
    expect(getAbi().target).toBe(hostTarget());
  });

  it('lists the generated targets', () => {
    expect(ALL).toEqual(
      expect.arrayContaining([
        'linux-x64-gnu',
        'linux-x64-musl',
        'linux-arm64-gnu',
        'linux-arm-gnu',
        'linux-arm-gnu-time64',
        'linux-ia32-gnu',
        'linux-ia32-gnu-time64',
        'linux-riscv64-gnu',
        'linux-ppc64-gnu',
        'linux-s390x-gnu',
        'linux-mips64el-gnu',
      ]),
    );
  });

  it('rejects unknown targets with the list of known ones', () => {
    expect(() => getAbi('linux-vax-gnu')).toThrow(/unknown ABI target 'linux-vax-gnu'; known targets: .*linux-x64-gnu/);
    expect(() => getAbi('constructor')).toThrow(/unknown ABI target/);
  });

  it('rejects non-Linux platforms', () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try {
      expect(() => hostTarget()).toThrow(/only Linux \(glibc, musl\)/);
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });
});

describe('codec details', () => {
  it('combines unsigned low and high words on legacy 32-bit layouts', () => {
    for (const t of ['linux-arm-gnu', 'linux-ia32-gnu']) {
      const abi = getAbi(t);
      const f = abi.description.structs.shmid_ds.fields;
      const bytes = new Uint8Array(abi.sizeof.shmidDs);
      const v = new DataView(bytes.buffer);
      v.setUint32(f.shm_atime.offset, 0xffffffff, abi.littleEndian);
      v.setUint32(f.shm_atime_high.offset, 1, abi.littleEndian);
      v.setUint32(f.shm_ctime.offset, 0x80000000, abi.littleEndian); // past 2038: not negative
      expect(abi.decodeShmidDs(bytes)).toMatchObject({ atime: 2 ** 33 - 1, ctime: 2 ** 31, dtime: 0 });
    }
  });

  it('throws a RangeError rather than rounding a huge segsz', () => {
    const abi = getAbi('linux-x64-gnu');
    const bytes = new Uint8Array(abi.sizeof.shmidDs);
    new DataView(bytes.buffer).setBigUint64(abi.description.structs.shmid_ds.fields.shm_segsz.offset, 2n ** 60n, true);
    expect(() => abi.decodeShmidDs(bytes)).toThrow(RangeError);
    expect(() => abi.decodeShmidDs(new Uint8Array(10))).toThrow(RangeError);
  });

  it('encodes IPC_SET buffers with only uid, gid, mode', () => {
    const abi = getAbi('linux-s390x-gnu');
    const bytes = abi.encodeShmidDs({ perm: { uid: 1000, mode: 0o600 } });
    expect(bytes.length).toBe(abi.sizeof.shmidDs);
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(4, false)).toBe(1000);
    expect(v.getUint32(20, false)).toBe(0o600);
    expect(bytes.filter((b) => b !== 0).length).toBe(4); // 0x03e8 and 0x0180
    expect(() => abi.encodeShmidDs({ perm: { uid: -1 } })).toThrow(RangeError);
    expect(() => abi.encodeShmidDs({ perm: { gid: 2 ** 32 } })).toThrow(RangeError);
  });

  it('encodes semctl IPC_SET buffers with only uid, gid, mode, and msgctl IPC_SET buffers with all four of uid, gid, mode, qbytes', () => {
    for (const t of ['linux-x64-gnu', 'linux-s390x-gnu', 'linux-ia32-gnu']) {
      const abi = getAbi(t);
      const perm = abi.description.structs.ipc_perm.fields;
      const sem = abi.encodeSemidDs({ perm: { gid: 7 } });
      expect(sem.length).toBe(abi.sizeof.semidDs);
      expect(abi.decodeSemidDs(sem)).toEqual({ perm: { key: 0, uid: 0, gid: 7, cuid: 0, cgid: 0, mode: 0, seq: 0 }, otime: 0, ctime: 0, nsems: 0 });
      expect(() => abi.encodeSemidDs({ perm: { mode: -1 } })).toThrow(RangeError);

      const msq = abi.encodeMsqidDs({ perm: { uid: 1000, gid: 100, mode: 0o600 }, qbytes: 65536 });
      expect(msq.length).toBe(abi.sizeof.msqidDs);
      const back = abi.decodeMsqidDs(msq);
      expect(back).toMatchObject({ perm: { uid: 1000, gid: 100, mode: 0o600 }, qbytes: 65536, cbytes: 0, qnum: 0, stime: 0 });
      expect(new DataView(msq.buffer).getUint32(abi.description.structs.msqid_ds.fields.msg_perm.offset + perm.uid.offset, abi.littleEndian)).toBe(1000);
      // A missing part would be written as 0 by the kernel: the encoder wants all four.
      expect(() => abi.encodeMsqidDs({ perm: { uid: 1, gid: 1 }, qbytes: 1 } as never)).toThrow(TypeError);
      expect(() => abi.encodeMsqidDs({ perm: { uid: 1, gid: 1, mode: 0 } } as never)).toThrow(TypeError);
      expect(() => abi.encodeMsqidDs({ perm: { uid: 1, gid: 1, mode: 0 }, qbytes: -1 })).toThrow(RangeError);
      expect(() => abi.encodeMsqidDs({ perm: { uid: 1, gid: 1, mode: 0 }, qbytes: 2 ** (8 * abi.sizeof.long) })).toThrow(RangeError);
    }
  });

  it('throws a RangeError rather than rounding huge queue counts', () => {
    const abi = getAbi('linux-x64-gnu');
    const f = abi.description.structs.msqid_ds.fields;
    for (const name of ['msg_cbytes', 'msg_qnum', 'msg_qbytes']) {
      const bytes = new Uint8Array(abi.sizeof.msqidDs);
      new DataView(bytes.buffer).setBigUint64(f[name].offset, 2n ** 60n, true);
      expect(() => abi.decodeMsqidDs(bytes), name).toThrow(RangeError);
    }
    expect(() => abi.decodeSemidDs(new Uint8Array(abi.sizeof.semidDs - 1))).toThrow(RangeError);
    expect(() => abi.decodeSeminfo(new Uint8Array(39))).toThrow(RangeError);
    expect(() => abi.decodeMsginfo(new Uint8Array(31))).toThrow(RangeError);
  });

  it('encodes sockaddr_un with sun_family in the target byte order, of exactly the path length', () => {
    const path = Uint8Array.from([0, 0x61, 0x62]);
    expect([...getAbi('linux-x64-gnu').encodeSockaddrUn(path)]).toEqual([1, 0, 0, 0x61, 0x62]);
    expect([...getAbi('linux-s390x-gnu').encodeSockaddrUn(path)]).toEqual([0, 1, 0, 0x61, 0x62]);
    for (const t of ALL) {
      const abi = getAbi(t);
      const full = abi.encodeSockaddrUn(new Uint8Array(108).fill(0x7a));
      expect(full.length, t).toBe(abi.sizeof.sockaddrUn);
      expect(new DataView(full.buffer).getUint16(0, abi.littleEndian), t).toBe(abi.constants.AF_UNIX);
      expect(() => abi.encodeSockaddrUn(new Uint8Array(109)), t).toThrow(RangeError);
      expect(abi.encodeSockaddrUn(new Uint8Array(0)).length, t).toBe(2);
    }
  });

  it('encodes futex_waitv arrays in the target byte order, zeros in the reserved words', () => {
    const waiters = [
      { uaddr: 0x1122_3344_5566_7788n, val: 0xffff_fffe, flags: 2 | 128 },
      { uaddr: 0x1000n, val: 5n, flags: 2 },
    ];
    for (const t of ['linux-x64-gnu', 'linux-s390x-gnu', 'linux-arm-gnu']) {
      const abi = getAbi(t);
      const f = abi.description.kernelStructs.futex_waitv.fields;
      const bytes = abi.encodeFutexWaitv(waiters);
      expect(bytes.length).toBe(2 * abi.sizeof.futexWaitv);
      const v = new DataView(bytes.buffer);
      const le = abi.littleEndian;
      const at = (i: number) => i * abi.sizeof.futexWaitv;
      expect(v.getBigUint64(at(0) + f.val.offset, le)).toBe(0xffff_fffen);
      expect(v.getBigUint64(at(0) + f.uaddr.offset, le)).toBe(0x1122_3344_5566_7788n);
      expect(v.getUint32(at(0) + f.flags.offset, le)).toBe(130);
      expect(v.getBigUint64(at(1) + f.val.offset, le)).toBe(5n);
      expect(v.getBigUint64(at(1) + f.uaddr.offset, le)).toBe(0x1000n);
      expect(v.getUint32(at(1) + f.flags.offset + 4, le)).toBe(0); // __reserved
    }
    const abi = getAbi('linux-x64-gnu');
    expect(abi.encodeFutexWaitv([]).length).toBe(0);
    expect(() => abi.encodeFutexWaitv([{ uaddr: 0n, val: -1, flags: 2 }])).toThrow(RangeError);
    expect(() => abi.encodeFutexWaitv([{ uaddr: 0n, val: 1.5, flags: 2 }])).toThrow(RangeError);
    expect(() => abi.encodeFutexWaitv([{ uaddr: -1n, val: 0, flags: 2 }])).toThrow(RangeError);
    expect(() => abi.encodeFutexWaitv([{ uaddr: 0n, val: 0, flags: 2 ** 32 }])).toThrow(RangeError);
  });

  it('encodes timespecs for every width', () => {
    const ts = (t: string) => {
      const abi = getAbi(t);
      const b = abi.encodeTimespec(1500);
      const f = abi.description.structs.timespec.fields;
      const v = new DataView(b.buffer);
      const rd = (o: number, size: number) => (size === 8 ? Number(v.getBigInt64(o, abi.littleEndian)) : v.getInt32(o, abi.littleEndian));
      return [b.length, rd(f.tv_sec.offset, f.tv_sec.size), rd(f.tv_nsec.offset, f.tv_nsec.size)];
    };
    expect(ts('linux-x64-gnu')).toEqual([16, 1, 500_000_000]);
    expect(ts('linux-arm-gnu')).toEqual([8, 1, 500_000_000]);
    expect(ts('linux-arm-gnu-time64')).toEqual([16, 1, 500_000_000]);
    expect(ts('linux-s390x-gnu')).toEqual([16, 1, 500_000_000]);
    expect(() => getAbi('linux-x64-gnu').encodeTimespec(-1)).toThrow(RangeError);
    expect(() => getAbi('linux-x64-gnu').encodeTimespec(Number.NaN)).toThrow(RangeError);
  });
});
