// Child program: the honest producer of the fuzz test (channel-fuzz.property.test.ts). Commands on stdin:
//   round <r> <json FuzzRound>  creates a channel; prints "ready <r> <shmid> <maxMessageSize>"
//   go <r>                      notes its consumer (peerPid), prints "going <r>", sends numbered messages with
//                               checksums for sendMs, closes, prints "producer <r> <json {outcome, sent}>"
// outcome: 'done', or the code of the error that ended the round. Lives for many rounds; the test kills it.
import { Channel } from '../../../lib/index.js';
import { fillMessage, readLines, sizeOf } from './hostile.js';

export interface FuzzRound {
  capacity: number;
  spin: number;
  producerMode: 'send' | 'reserve' | 'sendAsync';
  consumerMode: 'receive' | 'receiveInto' | 'peek' | 'receiveAsync' | 'tryReceive';
  sendMs: number;
  timeoutMs: number;
  /**
   * Which words the scribbler writes: 'header' any header word but head and tail (mostly unused padding), 'key'
   * the fields, 'counters' head and tail, 'ring' the ring, 'next' the length word of the record the consumer
   * reads next (at its published tail: what a hostile peer that knows the protocol aims at), 'mixed' all of these.
   */
  targets: 'header' | 'key' | 'counters' | 'ring' | 'next' | 'mixed';
  /** The scribbler spares head, tail and the ring ('header' and 'key'): every delivered message must be intact. */
  strict: boolean;
  seed: number;
  durationMs: number;
  /** At most this many writes (a few: the stream may survive them and must then arrive whole). */
  maxWrites: number;
  burst: number;
  pauseUs: number;
}

const channels = new Map<number, { channel: Channel; round: FuzzRound }>();

readLines(async (line) => {
  const [command, r] = line.split(' ', 2);
  const round = Number(r);
  if (command === 'round') {
    const params = JSON.parse(line.slice(line.indexOf('{'))) as FuzzRound;
    const channel = Channel.create({ capacity: params.capacity, spin: params.spin });
    channels.set(round, { channel, round: params });
    console.log(`ready ${round} ${channel.id} ${channel.maxMessageSize}`);
    return;
  }
  if (command !== 'go') throw new Error(`unknown command ${line}`);
  const { channel, round: params } = channels.get(round)!;
  channels.delete(round);
  const max = channel.maxMessageSize;
  const scratch = new Uint8Array(max);
  const options = { timeoutMs: params.timeoutMs };
  let sent = 0;
  let outcome = 'done';
  try {
    void channel.peerPid; // the producer knows its consumer from here on (a forged pid later is EPROTO)
    console.log(`going ${round}`);
    const end = performance.now() + params.sendMs;
    for (let seq = 0; performance.now() < end; seq++) {
      const size = sizeOf(seq, max);
      if (params.producerMode === 'reserve') {
        fillMessage(channel.reserve(size, options), seq);
        channel.commit();
      } else if (params.producerMode === 'sendAsync') {
        await channel.sendAsync(fillMessage(scratch.subarray(0, size), seq), options);
      } else {
        channel.send(fillMessage(scratch.subarray(0, size), seq), options);
      }
      sent++;
    }
  } catch (error) {
    outcome = (error as { code?: string }).code ?? String(error);
  }
  channel.close();
  console.log(`producer ${round} ${JSON.stringify({ outcome, sent })}`);
});
