// Smoke test for a foreign CPU (run by scripts/ci/emulated.sh under qemu-user, but it runs anywhere):
// create a segment, attach, write and read back, compare IPC_STAT with the kernel's own /proc/sysvipc/shm row,
// detach, remove; then an async receive woken through the doorbell socket by a producer in another process; then a
// mailbox and a topic. Exits 0 when everything matched, 1 otherwise. Run it inside `unshare --ipc --fork`.
//
//   node --import tsx test/emulated/smoke.ts [--expect-target linux-arm-gnu-time64]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Channel, IPC_CREAT, IPC_EXCL, IPC_RMID, IPC_STAT, Mailbox, Topic, getAbi, shmat, shmctl, shmdt, shmget } from '../../lib/index.js';
import { doorbellStats } from '../../lib/internal.js';

const SIZE = 12_345;
const failures: string[] = [];

function check(what: string, actual: unknown, expected: unknown): void {
  const ok = Object.is(actual, expected);
  if (!ok) failures.push(`${what}: got ${String(actual)}, expected ${String(expected)}`);
}

/** The /proc/sysvipc/shm row of `shmid`, parsed here (not by the library) so that the two views are independent. */
function kernelRow(shmid: number): Record<string, number> | undefined {
  const [header, ...lines] = readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n');
  const names = header.trim().split(/\s+/);
  for (const line of lines) {
    const cells = line.trim().split(/\s+/);
    const row = Object.fromEntries(names.map((name, i) => [name, name === 'perms' ? parseInt(cells[i], 8) : Number(cells[i])]));
    if (row.shmid === shmid) return row;
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
    child.stdin!.write('close\n');
    const end = await consumer.receiveAsync({ timeoutMs: 120_000 }).catch((error: { code?: string }) => error.code);
    check('doorbell: EPIPE once the producer closed', end, 'EPIPE');
    // The peer's tokens may arrive after the doorbell's watch already found the message (qemu is slow): wait for them.
    for (let i = 0; i < 100 && (doorbellStats()?.tokens ?? 0) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
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
