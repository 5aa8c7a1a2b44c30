// A writer and a reader in two processes, exchanging messages through one segment with a flag word, the way
// the tutorials do it (until the channel lands, this is the project's main job in `npm run bench`).
// Protocol: word 0 is the sequence number the writer published, word 1 what the reader consumed; the payload
// follows. The reader verifies a checksum of every message.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, shmat, shmctl, shmdt, shmget } from '../lib/index.js';

const HEADER = 16;

export interface DemoResult {
  messages: number;
  messageSize: number;
  seconds: number;
  messagesPerSec: number;
  bytesPerSec: number;
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (sum * 31 + bytes[i]) | 0;
  return sum;
}

async function reader(shmid: number, messages: number, messageSize: number): Promise<void> {
  const attachment = shmat(shmid);
  const words = new Int32Array(attachment.buffer, 0, 4);
  const payload = new Uint8Array(attachment.buffer, HEADER, messageSize);
  process.stdout.write('attached\n');
  for (let seq = 1; seq <= messages; seq++) {
    while (Atomics.load(words, 0) < seq) {
      // Spin: the writer is on the other core (or the scheduler moves one of us).
    }
    if (checksum(payload) !== Atomics.load(words, 2)) throw new Error(`message ${seq} arrived corrupted`);
    Atomics.store(words, 1, seq);
  }
  shmdt(attachment);
}

export async function runDemo(messages = 20_000, messageSize = 4096): Promise<DemoResult> {
  const shmid = shmget(IPC_PRIVATE, HEADER + messageSize, IPC_CREAT | 0o600);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'reader', String(shmid), String(messages), String(messageSize)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.once('data', () => resolve());
      child!.once('exit', (code) => reject(new Error(`reader exited with ${code} before attaching`)));
    });
    const attachment = shmat(shmid);
    // Both sides are attached: mark the segment for removal now, so that even a SIGKILL leaks nothing.
    shmctl(shmid, IPC_RMID);
    const words = new Int32Array(attachment.buffer, 0, 4);
    const payload = new Uint8Array(attachment.buffer, HEADER, messageSize);
    const start = process.hrtime.bigint();
    for (let seq = 1; seq <= messages; seq++) {
      while (Atomics.load(words, 1) < seq - 1) {
        // wait until the reader has consumed the previous message
      }
      payload.fill(seq & 0xff, 0, 64);
      payload[messageSize - 1] = seq & 0x7f;
      Atomics.store(words, 2, checksum(payload));
      Atomics.store(words, 0, seq);
    }
    while (Atomics.load(words, 1) < messages) {
      // last acknowledgement
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    shmdt(attachment);
    const code = await exited;
    if (code !== 0) throw new Error(`reader failed with exit code ${code}`);
    return { messages, messageSize, seconds, messagesPerSec: messages / seconds, bytesPerSec: (messages * messageSize) / seconds };
  } finally {
    try {
      shmctl(shmid, IPC_RMID);
    } catch {
      // already removed after both attached
    }
    child?.kill();
  }
}

if (process.argv[2] === 'reader') {
  const [shmid, messages, size] = process.argv.slice(3).map(Number);
  await reader(shmid, messages, size);
}
