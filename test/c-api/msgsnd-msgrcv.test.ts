// msgsnd and msgrcv: types and the selection by type, truncation, copying, waiting (by polling, with signals
// looked at between polls), and what a waiter sees when its queue is removed.
import { afterEach, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  IPC_CREAT,
  IPC_NOWAIT,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  MSG_COPY,
  MSG_EXCEPT,
  MSG_NOERROR,
  type ReceivedMessage,
  getAbi,
  msgctl,
  msgget,
  msgrcv,
  msgsnd,
} from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { removeMsgAfterTest } from '../support/sysv-objects.js';
import { killChildren, recordProgram } from '../support/child.js';
import { lrpidAsSeen } from '../support/emulation.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/c-api/${name}.ts`, import.meta.url));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const watchdogs = new Set<ChildProcess>();
afterEach(async () => {
  for (const dog of watchdogs) dog.kill('SIGKILL');
  watchdogs.clear();
  await killChildren();
});

/**
 * For a test that waits synchronously on a child: removes the queue after 20 s, so that a broken child fails the
 * wait with EIDRM instead of hanging the test run.
 */
function watchdog(msqid: number): void {
  watchdogs.add(spawn('sh', ['-c', `sleep 20; ipcrm -q ${msqid}`], { stdio: 'ignore' }));
}

function newQueue(): number {
  return removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600));
}

/** Sends messages of these types, each with the text "<type>:<n>" (n counts from 0 in sending order). */
function fill(id: number, types: number[]): void {
  for (const [n, type] of types.entries()) msgsnd(id, type, `${type}:${n}`);
}

function receiveAll(id: number): string[] {
  const got: string[] = [];
  for (;;) {
    try {
      got.push(text(msgrcv(id, 64, 0, IPC_NOWAIT).mtext));
    } catch (error) {
      expect((error as { code: string }).code).toBe('ENOMSG');
      return got;
    }
  }
}

/** Whether a process's main thread sleeps in a futex (the Atomics.wait between two polls), from /proc. */
const sleepsInFutex = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('futex');
  } catch {
    return false;
  }
};

/**
 * Waits until a child that printed "waiting" (just before a msgrcv or msgsnd that must wait) polls: its main thread
 * is seen asleep in a futex (the sleep between two tries) at three looks in a row. A poller sleeps nearly all the
 * time; the few microseconds of code before its first try cannot look like that.
 */
async function untilPolling(pid: number): Promise<void> {
  let seen = 0;
  await until(() => {
    seen = sleepsInFutex(pid) ? seen + 1 : 0;
    return seen >= 3;
  }, 'the child polls');
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('msgsnd and msgrcv', () => {
  it('a message round trip: type and bytes (strings are sent as UTF-8), and the queue counts it', () => {
    const id = newQueue();
    msgsnd(id, 7, new Uint8Array([0, 1, 255]));
    msgsnd(id, 1, 'héllo');
    expect(msgctl(id, IPC_STAT)).toMatchObject({ qnum: 2, cbytes: 3 + 6, lspid: process.pid });
    const first = msgrcv(id, 100, 0);
    expect(first.mtype).toBe(7);
    expect([...first.mtext]).toEqual([0, 1, 255]);
    expect(text(msgrcv(id, 100, 0).mtext)).toBe('héllo');
    expect(msgctl(id, IPC_STAT)).toMatchObject({ qnum: 0, cbytes: 0, lrpid: lrpidAsSeen(process.pid) });
  });

  it('an empty message', () => {
    const id = newQueue();
    msgsnd(id, 3, new Uint8Array(0));
    expect(msgrcv(id, 0, 0)).toEqual({ mtype: 3, mtext: new Uint8Array(0) });
  });

  it('msgtyp 0 takes messages in order; > 0 the first of that type; < 0 the first of the lowest type <= |msgtyp|', () => {
    const id = newQueue();
    fill(id, [5, 3, 4, 3, 1, 9]);
    expect(text(msgrcv(id, 64, 3).mtext)).toBe('3:1');
    expect(text(msgrcv(id, 64, -4).mtext)).toBe('1:4');
    expect(text(msgrcv(id, 64, -4).mtext)).toBe('3:3');
    expect(text(msgrcv(id, 64, 0).mtext)).toBe('5:0');
    expect(receiveAll(id)).toEqual(['4:2', '9:5']);
  });

  it('MSG_EXCEPT takes the first message of any other type', () => {
    const id = newQueue();
    fill(id, [1, 1, 2, 3]);
    expect(text(msgrcv(id, 64, 1, MSG_EXCEPT).mtext)).toBe('2:2');
    expect(receiveAll(id)).toEqual(['1:0', '1:1', '3:3']);
  });

  it('IPC_NOWAIT with nothing matching is ENOMSG, naming what was asked for', () => {
    const id = newQueue();
    fill(id, [2]);
    const error = catchError(() => msgrcv(id, 64, 5, IPC_NOWAIT));
    expect(error).toMatchObject({ code: 'ENOMSG', syscall: 'msgrcv', msqid: id });
    expect(error.message).toContain(`has no message of type 5 and IPC_NOWAIT was given`);
    expect(catchError(() => msgrcv(id, 64, -1, IPC_NOWAIT)).message).toContain('of a type <= 1');
    expect(catchError(() => msgrcv(id, 64, 2, IPC_NOWAIT | MSG_EXCEPT)).message).toContain('of a type other than 2');
  });

  it('E2BIG for a message longer than msgsz, which stays queued; MSG_NOERROR truncates it', () => {
    const id = newQueue();
    msgsnd(id, 1, 'abcdefghij');
    const error = catchError(() => msgrcv(id, 4, 0));
    expect(error).toMatchObject({ code: 'E2BIG', syscall: 'msgrcv', msqid: id });
    expect(error.message).toContain('longer than msgsz (4 bytes) and stays in the queue: pass MSG_NOERROR');
    expect(msgctl(id, IPC_STAT).qnum).toBe(1);
    expect(text(msgrcv(id, 4, 0, MSG_NOERROR).mtext)).toBe('abcd');
    expect(msgctl(id, IPC_STAT).qnum).toBe(0);
  });

  it('MSG_COPY copies the message at an index without taking it (ENOMSG beyond the last)', (ctx) => {
    const id = newQueue();
    fill(id, [4, 5, 6]);
    let copy: ReceivedMessage;
    try {
      copy = msgrcv(id, 64, 1, MSG_COPY | IPC_NOWAIT);
    } catch (error) {
      if ((error as { code: string }).code === 'ENOSYS') ctx.skip(true, 'this kernel has no MSG_COPY (CONFIG_CHECKPOINT_RESTORE)');
      throw error;
    }
    expect(copy.mtype).toBe(5);
    expect(text(copy.mtext)).toBe('5:1');
    expect(msgctl(id, IPC_STAT).qnum).toBe(3);
    const beyond = catchError(() => msgrcv(id, 64, 3, MSG_COPY | IPC_NOWAIT));
    expect(beyond.code).toBe('ENOMSG');
    expect(beyond.message).toContain('no message at index 3');
    expect(receiveAll(id)).toEqual(['4:0', '5:1', '6:2']);
  });

  it('types as large as a C long of the target (bigint beyond 2^53) round trip', () => {
    const id = newQueue();
    const max = (1n << BigInt(8 * getAbi().sizeof.long - 1)) - 1n;
    msgsnd(id, max, 'max');
    msgsnd(id, 2 ** 31 - 1, 'int');
    const first = msgrcv(id, 64, 0);
    expect(BigInt(first.mtype)).toBe(max);
    expect(typeof first.mtype).toBe(max > BigInt(Number.MAX_SAFE_INTEGER) ? 'bigint' : 'number');
    expect(msgrcv(id, 64, -max).mtype).toBe(2 ** 31 - 1);
  });

  it('EINVAL for a message above MSGMAX, naming the limit', () => {
    const id = newQueue();
    const msgmax = Number(readFileSync('/proc/sys/kernel/msgmax', 'utf8'));
    const error = catchError(() => msgsnd(id, 1, new Uint8Array(msgmax + 1)));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'msgsnd', msqid: id });
    expect(error.message).toContain(`${msgmax + 1} bytes is above MSGMAX (${msgmax}`);
    msgsnd(id, 1, new Uint8Array(msgmax));
    expect(msgrcv(id, msgmax, 0).mtext.length).toBe(msgmax);
  });

  it('a full queue: msgsnd with IPC_NOWAIT is EAGAIN, saying the queue is full', () => {
    const id = newQueue();
    msgctl(id, IPC_SET, { qbytes: 16 });
    msgsnd(id, 1, new Uint8Array(16));
    const error = catchError(() => msgsnd(id, 1, new Uint8Array(1), IPC_NOWAIT));
    expect(error).toMatchObject({ code: 'EAGAIN', syscall: 'msgsnd', msqid: id });
    expect(error.message).toContain(`essage queue ${id} is full (16 bytes in 1 messages)`);
  });

  it('msgrcv waits for a message another process sends later', async () => {
    const id = newQueue();
    const waiter = recordProgram(fixture('msg-wait'), [id, 'receive']);
    await waiter.line(/^waiting$/m);
    await untilPolling(waiter.child.pid!);
    msgsnd(id, 42, 'late');
    const end = await waiter.exit;
    expect(JSON.parse(/^results (.*)$/m.exec(end.stdout)![1])).toEqual({ message: { mtype: '42', text: 'late' } });
  });

  it('msgsnd waits for room in a full queue until another process takes a message', async () => {
    const id = newQueue();
    msgctl(id, IPC_SET, { qbytes: 8 });
    msgsnd(id, 1, new Uint8Array(8));
    const waiter = recordProgram(fixture('msg-wait'), [id, 'send']);
    await waiter.line(/^waiting$/m);
    await untilPolling(waiter.child.pid!);
    expect(msgrcv(id, 8, 0).mtext.length).toBe(8);
    const end = await waiter.exit;
    expect(JSON.parse(/^results (.*)$/m.exec(end.stdout)![1])).toEqual({ sent: true });
    expect(msgctl(id, IPC_STAT).qnum).toBe(1);
  });

  it('this process waits in msgrcv for a message from a child, and in msgsnd for room a child makes', () => {
    const id = newQueue();
    watchdog(id);
    recordProgram(fixture('msg-send'), [id, 9, 'from the child']);
    expect(msgrcv(id, 64, 9)).toEqual({ mtype: 9, mtext: new TextEncoder().encode('from the child') });
    msgctl(id, IPC_SET, { qbytes: 4 });
    msgsnd(id, 1, 'full');
    recordProgram(fixture('msg-receive'), [id]);
    msgsnd(id, 2, 'more');
    expect(text(msgrcv(id, 64, 0, IPC_NOWAIT).mtext)).toBe('more');
  });

  for (const how of ['receive', 'send'] as const) {
    it(`a ${how === 'receive' ? 'msgrcv' : 'msgsnd'} waiter whose queue is removed gets EIDRM, saying so`, async () => {
      const id = msgget(IPC_PRIVATE, IPC_CREAT | 0o600);
      removeMsgAfterTest(id);
      if (how === 'send') {
        msgctl(id, IPC_SET, { qbytes: 8 });
        msgsnd(id, 1, new Uint8Array(8));
      }
      const waiter = recordProgram(fixture('msg-wait'), [id, how]);
      await waiter.line(/^waiting$/m);
      // Asleep between two polls: it has seen the queue, so its removal is EIDRM (the kernel says EINVAL).
      await untilPolling(waiter.child.pid!);
      msgctl(id, IPC_RMID);
      const end = await waiter.exit;
      expect(end.stderr).toBe('');
      const { error } = JSON.parse(/^results (.*)$/m.exec(end.stdout)![1]);
      expect(error).toMatchObject({ code: 'EIDRM', syscall: how === 'receive' ? 'msgrcv' : 'msgsnd' });
      expect(error.message).toContain(`essage queue ${id} was removed while this process waited`);
    });
  }
});
