// Child program: the honest consumer of the fuzz test. Commands on stdin:
//   open <r> <shmid> <json FuzzRound>  opens the channel, prints "opened <r>", then receives until the channel
//                                      ends, and prints "consumer <r> <json ConsumerReport>"
// Every message is checked: intact (sent byte for byte: its sequence number, size and checksum agree) and in
// order, or not. In a strict round (the scribbler spares the counters and the ring) anything else ends the round
// with outcome 'mismatch'; otherwise it is counted as garbage.
import { Channel } from '../../../lib/index.js';
import { intactSeq, readLines, sleepMs } from './hostile.js';
import type { FuzzRound } from './fuzz-producer.js';

export interface ConsumerReport {
  outcome: string;
  exact: number;
  garbage: number;
  maxLength: number;
  detail?: string;
}

readLines(async (line) => {
  const [command, r, id] = line.split(' ', 4);
  if (command !== 'open') throw new Error(`unknown command ${line}`);
  const round = Number(r);
  const params = JSON.parse(line.slice(line.indexOf('{'))) as FuzzRound;
  let channel: Channel;
  try {
    channel = Channel.open(Number(id), { spin: params.spin });
  } catch (error) {
    console.log(`consumer ${round} ${JSON.stringify({ outcome: `open-${(error as { code?: string }).code}`, exact: 0, garbage: 0, maxLength: 0 })}`);
    return;
  }
  console.log(`opened ${round}`);
  const max = channel.maxMessageSize;
  const target = new Uint8Array(max);
  const options = { timeoutMs: params.timeoutMs };
  const report: ConsumerReport = { outcome: '', exact: 0, garbage: 0, maxLength: 0 };
  let expected = 0;
  try {
    for (;;) {
      let bytes: Uint8Array | null;
      switch (params.consumerMode) {
        case 'receiveInto': {
          const n = channel.receiveInto(target, options);
          bytes = n === null ? null : target.subarray(0, n);
          break;
        }
        case 'peek': {
          const view = channel.peek(options);
          bytes = view === null ? null : view.slice();
          if (view !== null) channel.release();
          break;
        }
        case 'receiveAsync':
          bytes = await channel.receiveAsync(options);
          break;
        case 'tryReceive': {
          const deadline = performance.now() + params.timeoutMs;
          while ((bytes = channel.tryReceive()) === null && performance.now() < deadline) sleepMs(0.02);
          break;
        }
        default:
          bytes = channel.receive(options);
      }
      if (bytes === null) {
        report.outcome = 'timeout';
        break;
      }
      report.maxLength = Math.max(report.maxLength, bytes.length);
      if (bytes.length > max) {
        report.outcome = 'too-long';
        break;
      }
      const seq = intactSeq(bytes, max);
      if (seq === expected) {
        report.exact++;
        expected++;
        continue;
      }
      report.garbage++;
      if (params.strict) {
        report.outcome = 'mismatch';
        report.detail = `message ${expected}: got ${bytes.length} bytes, ${seq < 0 ? 'not intact' : `intact message ${seq}`}`;
        break;
      }
      if (seq >= 0) expected = seq + 1;
    }
  } catch (error) {
    report.outcome = (error as { code?: string }).code ?? String(error);
    if (!(error as { code?: string }).code) report.detail = (error as Error).stack;
  }
  channel.close();
  console.log(`consumer ${round} ${JSON.stringify(report)}`);
});
