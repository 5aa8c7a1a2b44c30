// The C waker of the ring's wake-up cells (bench/c/doorbell.c, used by the c-ring transport) reaches doorbells:
// its own checks in one C process (bench/c/doorbell-check.c self: tokens, the kept connection, reconnect, a gone
// or full doorbell, hostile cells, the futex path), and a doorbell of this Node process, made the way the
// library's event loop makes one (an abstract Unix stream socket bound through koffi, handed to
// net.Server.listen({ fd })): a cell announced here in a System V segment, rung by a C process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileNative, nativeSource } from '../../bench/transports/native.js';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, shmat, shmctl, shmdt, shmget } from '../../lib/index.js';
import { libcHandle, ringLayout as L } from '../../lib/internal.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
/** SOCK_CLOEXEC (O_CLOEXEC) on the targets Node runs on: the C child must not inherit the listener. */
const SOCK_CLOEXEC = 0o2000000;

/** A doorbell of this process: the listening socket and every byte each connection delivered. */
class Doorbell {
  readonly server: net.Server;
  readonly connections: { socket: net.Socket; bytes: Buffer }[] = [];
  #arrived: (() => void) | null = null;

  constructor(
    readonly pid: number,
    readonly a: number,
    readonly b: number,
  ) {
    const lib = libcHandle();
    const socket = lib.func('int socket(int domain, int type, int protocol)');
    const bind = lib.func('int bind(int fd, const void *addr, int len)');
    const listen = lib.func('int listen(int fd, int backlog)');
    const name = Buffer.from(L.doorbellName(pid, a, b), 'latin1');
    // struct sockaddr_un of exactly offsetof(sun_path) + 1 + the name's length: a NUL (abstract), the name
    const addr = Buffer.alloc(2 + 1 + name.length);
    if (endianness() === 'LE') addr.writeUInt16LE(AF_UNIX, 0);
    else addr.writeUInt16BE(AF_UNIX, 0);
    name.copy(addr, 3);
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number;
    if (fd < 0) throw new Error('socket failed');
    if ((bind(fd, addr, addr.length) as number) !== 0 || (listen(fd, 64) as number) !== 0) throw new Error('bind or listen failed');
    this.server = net.createServer((socket) => {
      const connection = { socket, bytes: Buffer.alloc(0) };
      this.connections.push(connection);
      socket.on('data', (chunk) => {
        connection.bytes = Buffer.concat([connection.bytes, chunk]);
        this.#arrived?.();
      });
      socket.on('error', () => {});
    });
    this.server.listen({ fd });
  }

  /** All bytes received, in order of connections. */
  received(): Buffer {
    return Buffer.concat(this.connections.map((c) => c.bytes));
  }

  /** Waits until `n` bytes have arrived in all. */
  async bytes(n: number): Promise<Buffer> {
    const deadline = Date.now() + 5000;
    while (this.received().length < n) {
      if (Date.now() > deadline) throw new Error(`${this.received().length} of ${n} bytes arrived`);
      await new Promise<void>((resolve) => {
        this.#arrived = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.received();
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('the C waker (bench/c/doorbell.c)', () => {
  let dir: string;
  let exe: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sysv-shm-doorbell-test-'));
    exe = join(dir, 'doorbell-check');
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', exe, nativeSource('doorbell-check'), nativeSource('doorbell'), '-pthread'], {
      encoding: 'utf8',
    });
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr || cc.error?.message}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes its own checks, playing both sides in one process', () => {
    const run = spawnSync(exe, ['self'], { encoding: 'utf8', timeout: 20_000 });
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { case?: string; ok?: boolean; done?: boolean; message?: string; tokensBeforeFull?: number });
    expect(lines.filter((l) => l.ok === false)).toEqual([]);
    expect(run.status).toBe(0);
    expect(lines.map((l) => l.case ?? 'done')).toEqual([
      'name',
      'idle',
      'doorbell',
      'once',
      'reconnect',
      'gone',
      'addrlen',
      'hostile',
      'full',
      'futex',
      'done',
    ]);
    expect(lines.find((l) => l.case === 'full')!.tokensBeforeFull).toBeGreaterThan(32);
  });

  it('wakes a Node doorbell through a cell in a segment: token, kept connection, reconnect, gone', { timeout: 30_000 }, async () => {
    const nonce = randomBytes(8);
    const doorbell = new Doorbell(process.pid, nonce.readInt32LE(0), nonce.readInt32LE(4));
    const id = shmget(IPC_PRIVATE, L.DATA_OFFSET + L.MIN_CAPACITY, IPC_CREAT | 0o600);
    let attachment: ReturnType<typeof shmat> | undefined;
    let removed = false;
    let child: ChildProcess | undefined;
    try {
      attachment = shmat(id);
      const view = new Int32Array(attachment.buffer);
      const cell = L.i32(L.OFF_CONSUMER_CELL);
      const at = (offset: number) => cell + L.i32(offset);
      child = spawn(exe, ['ring', String(id), String(L.OFF_CONSUMER_CELL)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? '{"eof":true}') as Record<string, unknown>;
      expect(await next()).toEqual({ ready: true });
      shmctl(id, IPC_RMID); // both attached: gone with the last detach
      removed = true;
      const ring = async () => {
        child!.stdin!.write('\n');
        return next();
      };
      /** The asynchronous sleeper's announcement (lib/sync/ring-layout.ts): identity and token, then STATE. */
      const announce = (token: number) => {
        view[at(L.CELL_KIND)] = L.CELL_KIND_SOCKET;
        view[at(L.CELL_PID)] = doorbell.pid;
        view[at(L.CELL_NONCE_A)] = doorbell.a;
        view[at(L.CELL_NONCE_B)] = doorbell.b;
        view[at(L.CELL_TOKEN)] = token;
        Atomics.store(view, at(L.CELL_STATE), L.CELL_DOORBELL);
      };
      const tokenBytes = (...tokens: number[]) => Buffer.from(new Int32Array(tokens).buffer);

      // nobody sleeps: nothing
      expect(await ring()).toEqual({ result: 'none', connects: 0, sends: 0 });
      expect(Atomics.load(view, at(L.CELL_BELL))).toBe(0);

      // an asynchronous sleeper: its token arrives as it is in memory; STATE cleared, BELL bumped
      announce(0x01020304);
      expect(await ring()).toMatchObject({ result: 'sent', connects: 1 });
      expect(await doorbell.bytes(4)).toEqual(tokenBytes(0x01020304));
      expect(Atomics.load(view, at(L.CELL_STATE))).toBe(L.CELL_IDLE);
      expect(Atomics.load(view, at(L.CELL_BELL))).toBe(1);

      // rung again: no new announcement, nothing sent
      expect(await ring()).toMatchObject({ result: 'none', sends: 1 });

      // more wake-ups over the kept connection
      const tokens = [-1, 0, 7, 0x7fffffff];
      for (const t of tokens) {
        announce(t);
        expect(await ring()).toMatchObject({ result: 'sent', connects: 1 });
      }
      expect(await doorbell.bytes(4 + 4 * tokens.length)).toEqual(tokenBytes(0x01020304, ...tokens));
      expect(doorbell.connections).toHaveLength(1);

      // the owner drops the connection: the waker reconnects once and gets through
      const first = doorbell.connections[0].socket;
      const closed = new Promise((resolve) => first.once('close', resolve));
      first.destroy();
      await closed;
      announce(99);
      expect(await ring()).toMatchObject({ result: 'sent', connects: 2 });
      expect((await doorbell.bytes(4 * (tokens.length + 2))).subarray(-4)).toEqual(tokenBytes(99));
      expect(doorbell.connections).toHaveLength(2);

      // the doorbell is gone: nothing blocks, the cell is cleared all the same
      await doorbell.close();
      announce(100);
      expect(await ring()).toMatchObject({ result: 'gone' });
      expect(Atomics.load(view, at(L.CELL_STATE))).toBe(L.CELL_IDLE);

      // a hostile cell (a pid of 0): nothing attempted
      announce(101);
      view[at(L.CELL_PID)] = 0;
      expect(await ring()).toMatchObject({ result: 'bad', connects: 2 });

      child.stdin!.end();
      expect(await new Promise((resolve) => child!.once('exit', resolve))).toBe(0);
    } finally {
      child?.kill('SIGKILL');
      if (attachment) shmdt(attachment);
      if (!removed) shmctl(id, IPC_RMID);
      await doorbell.close().catch(() => {});
    }
  });
});

describe('the C ring (bench/c/ring.c) speaks ring format version 2', () => {
  let dir: string;
  let exe: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sysv-shm-ring-version-test-'));
    const built = compileNative(dir, ['ring']);
    if ('problem' in built) throw new Error(built.problem);
    exe = built.exe.ring!;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The JSON lines of a C end until it exits (its stdin closed at once). */
  async function run(args: string[], onReady?: (ready: { id: number }) => void): Promise<Record<string, unknown>[]> {
    const child = spawn(exe, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    try {
      for await (const line of createInterface({ input: child.stdout! })) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.type === 'ready' && onReady) {
          onReady(parsed as { id: number });
          child.kill('SIGKILL');
        }
      }
    } finally {
      child.kill('SIGKILL');
    }
    return lines;
  }

  it('writes version 2 and idle wake-up cells in the header it creates', async () => {
    let header: Int32Array | undefined;
    await run(['drive', 'throughput', 'copy', 'futex', '64', '1', '0.01'], ({ id }) => {
      const attachment = shmat(id);
      header = new Int32Array(attachment.buffer.slice(0, L.DATA_OFFSET));
      shmdt(attachment);
    });
    expect(header).toBeDefined();
    expect(header![L.i32(L.OFF_MAGIC)]).toBe(L.MAGIC);
    expect(header![L.i32(L.OFF_VERSION)]).toBe(L.VERSION);
    expect(L.VERSION).toBe(2);
    for (const cell of [L.OFF_CONSUMER_CELL, L.OFF_PRODUCER_CELL])
      expect([...header!.subarray(L.i32(cell), L.i32(cell + L.CELL_SIZE))]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a version-1 channel with EPROTO', async () => {
    const id = shmget(IPC_PRIVATE, L.DATA_OFFSET + L.MIN_CAPACITY, IPC_CREAT | 0o600);
    try {
      const attachment = shmat(id);
      const header = new Int32Array(attachment.buffer);
      header[L.i32(L.OFF_VERSION)] = 1;
      header[L.i32(L.OFF_CAPACITY)] = L.MIN_CAPACITY;
      header[L.i32(L.OFF_DATA_OFFSET)] = L.DATA_OFFSET;
      header[L.i32(L.OFF_MAX_MESSAGE)] = L.MIN_CAPACITY - L.RECORD_HEADER;
      header[L.i32(L.OFF_PRODUCER_PID)] = process.pid;
      Atomics.store(header, L.i32(L.OFF_MAGIC), L.MAGIC);
      shmdt(attachment);
      const lines = await run(['serve', String(id), 'throughput', 'copy', 'futex', '56', '1', '0.01']);
      expect(lines).toEqual([{ type: 'error', name: 'EPROTO', message: `segment ${id} holds channel version 1` }]);
    } finally {
      shmctl(id, IPC_RMID);
    }
  });
});
