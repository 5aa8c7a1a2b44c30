// Many workers, one server: this process creates a mailbox (the receiving end) and starts three workers that
// connect to it by id, each with a lane of its own, and send their results. The server receives them, with who
// sent each, without blocking its event loop, until every worker has sent its last message.
//
//   npx tsx scripts/examples/mailbox.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Mailbox } from '../../lib/index.js';

const WORKERS = 3;
const RESULTS = 4;

if (process.argv[2] === 'worker') {
  const worker = Number(process.argv[4]);
  const mailbox = Mailbox.connect(Number(process.argv[3]));
  for (let i = 1; i <= RESULTS; i++) await mailbox.sendAsync(Buffer.from(`worker ${worker}: result ${i} of ${RESULTS}`), { timeoutMs: 10_000 });
  mailbox.close(); // the lane is freed once the server has taken what was sent
} else {
  const mailbox = Mailbox.create({ capacity: 4096, senders: WORKERS });
  console.log(`server (pid ${process.pid}): mailbox ${mailbox.id}, ${mailbox.maxSenders} lanes of ${mailbox.capacity} bytes`);
  const script = fileURLToPath(import.meta.url);
  for (let w = 1; w <= WORKERS; w++) spawn(process.execPath, [...process.execArgv, script, 'worker', String(mailbox.id), String(w)], { stdio: 'inherit' });
  let received = 0;
  const signal = AbortSignal.timeout(20_000); // a worker that never comes must not hang the example
  for await (const { data, sender, pid } of mailbox.messages({ signal })) {
    console.log(`server: from sender ${sender} (pid ${pid}): ${Buffer.from(data).toString()}`);
    if (++received === WORKERS * RESULTS) break;
  }
  console.log(`server: ${received} messages from ${WORKERS} workers; closing`);
  mailbox.close();
}
