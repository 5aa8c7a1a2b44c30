// The classic C writer/reader pair, ported line by line to the C-shaped API.
//   writer: key = ftok(path, 65); id = shmget(key, 1024, 0666|IPC_CREAT); str = shmat(id, NULL, 0);
//           strcpy(str, "..."); shmdt(str);
//   reader: id = shmget(key, 1024, 0666); str = shmat(id, NULL, 0); printf("%s", str); shmdt(str);
//           shmctl(id, IPC_RMID, NULL);
// Run: npx tsx scripts/examples/port-from-c.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPC_CREAT, IPC_RMID, ftok, shmat, shmctl, shmdt, shmget } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'port-from-c-'));
const path = join(dir, 'shmfile');
writeFileSync(path, '');

// writer
const key = ftok(path, 65);
const writerId = shmget(key, 1024, 0o600 | IPC_CREAT); // owner-only: tutorials use 0666, which lets anyone write
const writer = shmat(writerId);
Buffer.from(writer.buffer).write('Hello from the writer\0');
shmdt(writer);
console.log(`writer: wrote into segment ${writerId} (key 0x${(key >>> 0).toString(16)})`);

// reader (usually another process)
const readerId = shmget(key, 1024, 0o600);
const reader = shmat(readerId);
const bytes = new Uint8Array(reader.buffer);
const text = Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString();
console.log(`reader: data read from memory: ${text}`);
shmdt(reader);
shmctl(readerId, IPC_RMID);
rmSync(dir, { recursive: true });
