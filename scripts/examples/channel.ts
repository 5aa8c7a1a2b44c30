// A message channel between two processes: this process creates the channel (producer end) and starts a child
// that opens it by id (consumer end). The producer sends a few messages of various sizes, one with zero-copy
// reserve/commit, then closes; the consumer receives until the channel reports EPIPE (producer gone, ring empty).
//
//   npx tsx scripts/examples/channel.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Channel } from '../../lib/index.js';

if (process.argv[2] === 'consumer') {
  const channel = Channel.open(Number(process.argv[3]));
  console.log(`consumer (pid ${process.pid}): opened channel ${channel.id}, capacity ${channel.capacity} bytes`);
  let count = 0;
  let bytes = 0;
  for (;;) {
    try {
      const message = await channel.receiveAsync({ timeoutMs: 10_000 });
      if (message === null) break;
      count++;
      bytes += message.length;
      if (message.length < 80) console.log(`consumer: ${JSON.stringify(new TextDecoder().decode(message))}`);
      else console.log(`consumer: ${message.length} bytes, first ${message[0]}, last ${message[message.length - 1]}`);
    } catch (error) {
      console.log(`consumer: ${(error as { code?: string }).code} after ${count} messages (${bytes} bytes): the producer closed and everything was read`);
      break;
    }
  }
  channel.close();
} else {
  const channel = Channel.create({ capacity: 64 * 1024 });
  console.log(`producer (pid ${process.pid}): channel ${channel.id}, capacity ${channel.capacity}, largest message ${channel.maxMessageSize} bytes`);
  const consumer = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'consumer', String(channel.id)], { stdio: 'inherit' });
  // open() must happen while this end is alive: the segment exists only while one end is attached. So before
  // closing, wait until the consumer has opened (its pid appears in the header).
  const deadline = Date.now() + 20_000;
  while (channel.peerPid === 0) {
    if (Date.now() > deadline) throw new Error('the consumer did not open the channel');
    await new Promise((r) => setTimeout(r, 5));
  }
  console.log(`producer: consumer ${channel.peerPid} has opened the channel`);
  const encoder = new TextEncoder();
  for (const text of ['hello', 'a second message', '']) channel.send(encoder.encode(text), { timeoutMs: 10_000 });
  const big = new Uint8Array(50_000).map((_, i) => i & 255);
  await channel.sendAsync(big, { timeoutMs: 10_000 });
  const view = channel.reserve(32, { timeoutMs: 10_000 }); // zero-copy: write straight into the ring
  const n = encoder.encodeInto('written in place', view).written;
  channel.commit(n);
  console.log('producer: sent 5 messages; closing');
  consumer.on('exit', (code) => console.log(`producer: consumer exited with ${code}; the segment went away with the last end`));
  channel.close();
}
