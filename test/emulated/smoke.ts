// Smoke test for a foreign CPU (run by scripts/ci/emulated.sh under qemu-user, but it runs anywhere):
// create a segment, attach, write and read back, compare IPC_STAT with the kernel's own /proc/sysvipc/shm row,
// detach, remove; then a semaphore set and a message queue through the C layer (SETVAL's union semun, GETALL's
// unsigned shorts, IPC_STAT's times and counts against /proc/sysvipc/sem and msg, msgsnd/msgrcv's C long type); then an async receive woken through the doorbell socket by a producer in another process; then a
// mailbox and a topic. Exits 0 when everything matched, 1 otherwise. Run it inside `unshare --ipc --fork`.
//
//   node --import tsx test/emulated/smoke.ts [--expect-target linux-arm-gnu-time64]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  Channel,
  GETALL,
  GETPID,
  GETVAL,
  IPC_CREAT,
  IPC_EXCL,
  IPC_NOWAIT,
  IPC_RMID,
  IPC_STAT,
  MSG_EXCEPT,
  Mailbox,
  SEM_UNDO,
  SETALL,
  SETVAL,
  Topic,
  getAbi,
  msgctl,
  msgget,
  msgrcv,
  msgsnd,
  semctl,
  semget,
  semop,
  shmat,
  shmctl,
  shmdt,
  shmget,
} from '../../lib/index.js';
import { doorbellStats } from '../../lib/internal.js';

const SIZE = 12_345;
const failures: string[] = [];

function check(what: string, actual: unknown, expected: unknown): void {
  const ok = Object.is(actual, expected);
  if (!ok) failures.push(`${what}: got ${String(actual)}, expected ${String(expected)}`);
}

/** The /proc/sysvipc/<file> row of an id, parsed here (not by the library) so that the two views are independent. */
function kernelRow(id: number, file: 'shm' | 'sem' | 'msg' = 'shm'): Record<string, number> | undefined {
  const [header, ...lines] = readFileSync(`/proc/sysvipc/${file}`, 'utf8').trim().split('\n');
  const names = header.trim().split(/\s+/);
  for (const line of lines) {
    const cells = line.trim().split(/\s+/);
    const row = Object.fromEntries(names.map((name, i) => [name, name === 'perms' ? parseInt(cells[i], 8) : Number(cells[i])]));
    if (row[`${file === 'shm' ? 'shm' : file === 'sem' ? 'sem' : 'msq'}id`] === id) return row;
  }
  return undefined;
}

const expectIndex = process.argv.indexOf('--expect-target');
const expectedTarget = expectIndex > 0 ? process.argv[expectIndex + 1] : undefined;
const abi = getAbi();
console.log(`smoke: node ${process.version} ${process.arch}, ABI ${abi.target}, shmctl symbol ${abi.symbols.shmctl}`);
if (expectedTarget) check('ABI target', abi.target, expectedTarget);

const key = 0x5e00_0000 | (process.pid & 0xffffff) | 0;
const id = shmget(key, SIZE, IPC_CREAT | IPC_EXCL | 0o640);
try {
  const writer = shmat(id);
  const reader = shmat(id);
  const pattern = Uint8Array.from({ length: SIZE }, (_, i) => (i * 31 + 7) & 0xff);
  new Uint8Array(writer.buffer).set(pattern);
  const seen = reader.read(0, SIZE);
  check('bytes read back through a second attachment', Buffer.compare(Buffer.from(seen), Buffer.from(pattern)), 0);
  check('attachment size', writer.size, SIZE);

  const ds = shmctl(id, IPC_STAT);
  const row = kernelRow(id);
  if (!row) throw new Error(`shmid ${id} is not in /proc/sysvipc/shm`);
  check('perm.key', ds.perm.key, key);
  check('perm.key = /proc key', ds.perm.key, row.key);
  check('perm.uid', ds.perm.uid, row.uid);
  check('perm.gid', ds.perm.gid, row.gid);
  check('perm.cuid', ds.perm.cuid, row.cuid);
  check('perm.cgid', ds.perm.cgid, row.cgid);
  check('perm.mode', ds.perm.mode, row.perms);
  check('perm.mode & 0777', ds.perm.mode & 0o777, 0o640);
  check('segsz', ds.segsz, SIZE);
  check('segsz = /proc size', ds.segsz, row.size);
  check('cpid', ds.cpid, process.pid);
  check('cpid = /proc cpid', ds.cpid, row.cpid);
  check('lpid = /proc lpid', ds.lpid, row.lpid);
  check('nattch', ds.nattch, 2);
  check('nattch = /proc nattch', ds.nattch, row.nattch);
  check('atime = /proc atime', ds.atime, row.atime);
  check('dtime = /proc dtime', ds.dtime, row.dtime);
  check('ctime = /proc ctime', ds.ctime, row.ctime);
  check('atime is now (within 60 s)', Math.abs(ds.atime - Date.now() / 1000) < 60, true);

  shmdt(reader);
  shmdt(writer);
  const after = kernelRow(id);
  check('nattch after detach (/proc)', after?.nattch, 0);
  check('dtime after detach = /proc dtime', shmctl(id, IPC_STAT).dtime, after?.dtime);
  check('dtime set by detach', (after?.dtime ?? 0) > 0, true);
} finally {
  shmctl(id, IPC_RMID);
}
check('segment gone after IPC_RMID', kernelRow(id), undefined);

// A semaphore set of three on this CPU: SETVAL passes union semun by value (val in the high half on big-endian
// 64-bit), GETALL/SETALL unsigned shorts, semop's struct sembuf, IPC_STAT's otime/ctime and nsems against /proc.
{
  const semid = semget(key, 3, IPC_CREAT | IPC_EXCL | 0o640);
  try {
    semctl(semid, 1, SETVAL, 5);
    check('sem: SETVAL 5 then GETVAL', semctl(semid, 1, GETVAL), 5);
    semctl(semid, 0, SETALL, [7, 300, 32767]);
    check('sem: SETALL then GETALL', semctl(semid, 0, GETALL).join(','), '7,300,32767');
    semop(semid, [
      { sem_num: 0, sem_op: -2, sem_flg: SEM_UNDO },
      { sem_num: 1, sem_op: 1, sem_flg: IPC_NOWAIT },
    ]);
    check('sem: semop applied both operations', semctl(semid, 0, GETALL).join(','), '5,301,32767');
    check('sem: GETPID is this process', semctl(semid, 0, GETPID), process.pid);
    const ds = semctl(semid, 0, IPC_STAT);
    const row = kernelRow(semid, 'sem');
    if (!row) throw new Error(`semid ${semid} is not in /proc/sysvipc/sem`);
    check('sem: perm.key', ds.perm.key, key);
    check('sem: perm.mode & 0777', ds.perm.mode & 0o777, 0o640);
    check('sem: perm.uid = /proc uid', ds.perm.uid, row.uid);
    check('sem: nsems', ds.nsems, 3);
    check('sem: nsems = /proc nsems', ds.nsems, row.nsems);
    check('sem: otime = /proc otime', ds.otime, row.otime);
    check('sem: ctime = /proc ctime', ds.ctime, row.ctime);
    check('sem: otime is now (within 60 s)', Math.abs(ds.otime - Date.now() / 1000) < 60, true);
  } finally {
    semctl(semid, 0, IPC_RMID);
  }
  check('sem: set gone after IPC_RMID', kernelRow(semid, 'sem'), undefined);
}

// A message queue on this CPU: the C long mtype before the text, type selection, IPC_STAT's counts against /proc.
{
  const msqid = msgget(key, IPC_CREAT | IPC_EXCL | 0o640);
  try {
    msgsnd(msqid, 7, 'seven');
    msgsnd(msqid, 3, new Uint8Array([1, 2, 3]));
    msgsnd(msqid, 2 ** 31 - 1, 'largest type a 32-bit long holds');
    const ds = msgctl(msqid, IPC_STAT);
    const row = kernelRow(msqid, 'msg');
    if (!row) throw new Error(`msqid ${msqid} is not in /proc/sysvipc/msg`);
    check('msg: qnum', ds.qnum, 3);
    check('msg: qnum = /proc qnum', ds.qnum, row.qnum);
    check('msg: cbytes = /proc cbytes', ds.cbytes, row.cbytes);
    check('msg: lspid = /proc lspid', ds.lspid, row.lspid);
    check('msg: stime = /proc stime', ds.stime, row.stime);
    check('msg: qbytes is positive', ds.qbytes > 0, true);
    const three = msgrcv(msqid, 64, 3, IPC_NOWAIT);
    check('msg: type 3 selected', `${three.mtype}:${Array.from(three.mtext).join(',')}`, '3:1,2,3');
    const notSeven = msgrcv(msqid, 64, 7, IPC_NOWAIT | MSG_EXCEPT);
    check('msg: MSG_EXCEPT 7 gives the largest type', notSeven.mtype, 2 ** 31 - 1);
    const lowest = msgrcv(msqid, 64, -10, IPC_NOWAIT);
    check('msg: type -10 gives type 7', `${lowest.mtype}:${Buffer.from(lowest.mtext).toString()}`, '7:seven');
    check('msg: empty after three receives', msgctl(msqid, IPC_STAT).qnum, 0);
  } finally {
    msgctl(msqid, IPC_RMID);
  }
  check('msg: queue gone after IPC_RMID', kernelRow(msqid, 'msg'), undefined);
}

// The event loop's doorbell on this CPU: a receiveAsync pending here, woken by a producer in another process
// through the abstract socket (the sockaddr_un layout, the token's bytes), then EPIPE when that producer closes.
{
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/sync/many-producers.ts', import.meta.url)), '1'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve));
  try {
    const channelId = Number((await nextLine()).split(' ')[1]);
    const consumer = Channel.open(channelId, { spin: 0 });
    const pending = consumer.receiveAsync({ timeoutMs: 120_000 });
    child.stdin!.write('send\n');
    const message = await pending;
    check('doorbell: the message sent by another process arrived', message?.length, 4);
    // A second message, once this thread's doorbell surely exists: the first wait may have started (and been woken)
    // before the doorbell's socket was set up, on a loaded machine.
    const second = consumer.receiveAsync({ timeoutMs: 120_000 });
    child.stdin!.write('send\n');
    check('doorbell: a second message arrived', (await second)?.length, 4);
    child.stdin!.write('close\n');
    const end = await consumer.receiveAsync({ timeoutMs: 120_000 }).catch((error: { code?: string }) => error.code);
    check('doorbell: EPIPE once the producer closed', end, 'EPIPE');
    // The peer's tokens may arrive after the doorbell's watch already found the message (qemu is slow, more so on a
    // loaded machine): wait for them, up to 30 s.
    for (let i = 0; i < 600 && (doorbellStats()?.tokens ?? 0) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    check('doorbell: it was rung through its socket', (doorbellStats()?.tokens ?? 0) > 0, true);
    consumer.close();
  } finally {
    child.stdin!.end();
    lines.close();
  }
}

// The mailbox and the topic on this CPU (in this process: their cross-process paths are the channel's): lanes,
// round robin and sender ids; one ring read by two subscribers, and 'drop' counting what a lagging one lost.
{
  const mailbox = Mailbox.create({ capacity: 256, senders: 2, spin: 0 });
  const [a, b] = [Mailbox.connect(mailbox.id), Mailbox.connect(mailbox.id)];
  for (let i = 0; i < 3; i++) {
    a.send(Uint8Array.of(10 + i));
    b.send(Uint8Array.of(20 + i));
  }
  const order: string[] = [];
  for (let m = mailbox.tryReceive(); m !== null; m = mailbox.tryReceive()) order.push(`${m.sender}:${m.data[0]}`);
  check('mailbox: round robin, sender ids', order.join(' '), '1:10 2:20 1:11 2:21 1:12 2:22');
  a.close();
  b.close();
  mailbox.close();
  const publisher = Topic.create({ capacity: 256, policy: 'drop', spin: 0 });
  const [fast, slow] = [Topic.subscribe(publisher.id), Topic.subscribe(publisher.id)];
  let received = 0;
  for (let i = 0; i < 100; i++) {
    publisher.publish(new Uint8Array(40).fill(i));
    if (fast.tryReceive()?.[0] === i) received++;
  }
  check('topic: every message to the subscriber that keeps up', received, 100);
  const last = slow.receive({ timeoutMs: 0 });
  let rest = last === null ? 0 : 1;
  while (slow.tryReceive() !== null) rest++;
  check("topic 'drop': lost + received = published", slow.lost + rest, 100);
  fast.close();
  slow.close();
  publisher.close();
}

if (failures.length) {
  console.log(`smoke: FAILED\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
} else {
  console.log('smoke: ok');
}
