// Child program: the hostile process of the fuzz test. It attaches a channel's segment by id (as any process of
// the same user can) and writes random values into random words of the header and the ring at a high rate.
// Commands on stdin:
//   attack <r> <shmid> <json FuzzRound>  attaches, prints "attached <r>"
//   start <r>                            scribbles for durationMs (bursts of `burst` writes, `pauseUs` apart, at
//                                        most maxWrites), detaches, prints "scribbled <r> <json ScribbleReport>"
// Which words it writes is the round's `targets` (see FuzzRound).
import { shmat, shmdt, type Attachment } from '../../../lib/index.js';
import { L, W, readLines, sleepMs } from './hostile.js';
import type { FuzzRound } from './fuzz-producer.js';

export interface ScribbleReport {
  writes: number;
  ringWrites: number;
  /** Byte offsets of the header words written. */
  headerOffsets: number[];
}

const KEY_WORDS = [
  W.magic, W.version, W.capacity, W.dataOffset, W.producerPid, W.consumerPid, W.producerClosed, W.consumerClosed, W.maxMessage,
  L.OFF_PRODUCER_START / 4, L.OFF_PRODUCER_START / 4 + 1, L.OFF_CONSUMER_START / 4, L.OFF_CONSUMER_START / 4 + 1,
  W.consumerWaiting, W.consumerBell, W.producerWaiting, W.producerBell,
];
const COUNTERS = [W.head, W.tail];

let attached: { attachment: Attachment; round: number; params: FuzzRound } | undefined;

readLines((line) => {
  const [command, r, id] = line.split(' ', 4);
  const round = Number(r);
  if (command === 'attack') {
    attached = { attachment: shmat(Number(id)), round, params: JSON.parse(line.slice(line.indexOf('{'))) as FuzzRound };
    console.log(`attached ${round}`);
    return;
  }
  if (command !== 'start' || attached?.round !== round) throw new Error(`unexpected ${line}`);
  const { attachment, params } = attached;
  attached = undefined;
  const words = new Uint32Array(attachment.buffer);
  const ringWords = params.capacity / 4;
  let x = params.seed | 1; // xorshift32
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const anyHeaderWord = (): number => {
    let word: number;
    do word = rand() % (L.DATA_OFFSET / 4);
    while (word === W.head || word === W.tail);
    return word;
  };
  // The ring: mostly record headers (8-aligned words), where lengths and wrap markers live.
  const ringWord = (): number => L.DATA_OFFSET / 4 + ((rand() % ringWords) & (rand() % 10 < 6 ? ~1 : ~0));
  // The length word of the consumer's next record (its tail as published, which this process may have changed).
  const nextRecordWord = (): number => L.DATA_OFFSET / 4 + ((words[W.tail] & (params.capacity - 1)) >> 2);
  const pickWord = (): number => {
    switch (params.targets) {
      case 'header':
        return anyHeaderWord();
      case 'key':
        return KEY_WORDS[rand() % KEY_WORDS.length];
      case 'counters':
        return COUNTERS[rand() % 2];
      case 'ring':
        return ringWord();
      case 'next':
        return nextRecordWord();
      default: {
        const roll = rand() % 100;
        if (roll < 15) return KEY_WORDS[rand() % KEY_WORDS.length];
        if (roll < 30) return COUNTERS[rand() % 2];
        if (roll < 45) return anyHeaderWord();
        return roll < 70 ? nextRecordWord() : ringWord();
      }
    }
  };
  const valueFor = (old: number): number => {
    switch (rand() % 9) {
      case 0:
        return rand();
      case 1:
        return rand() % 17;
      case 2:
        return L.WRAP_MARKER;
      case 3:
        return (params.capacity + 8 * ((rand() % 5) - 2)) >>> 0;
      case 4:
        return (old + 8 * ((rand() % 9) - 4)) >>> 0; // a plausible counter
      case 5:
        return (old ^ (1 << rand() % 32)) >>> 0;
      case 6:
        return 0;
      case 7:
        return 1;
      default:
        return 0x04000000; // 64 MiB
    }
  };
  const report: ScribbleReport = { writes: 0, ringWrites: 0, headerOffsets: [] };
  const header = new Set<number>();
  const end = performance.now() + params.durationMs;
  while (performance.now() < end && report.writes < params.maxWrites) {
    for (let i = 0; i < params.burst && report.writes < params.maxWrites; i++) {
      const word = pickWord();
      words[word] = valueFor(words[word]);
      report.writes++;
      if (word >= L.DATA_OFFSET / 4) report.ringWrites++;
      else header.add(word * 4);
    }
    if (params.pauseUs > 0) sleepMs(params.pauseUs / 1000);
  }
  shmdt(attachment);
  report.headerOffsets = [...header].sort((a, b) => a - b);
  console.log(`scribbled ${round} ${JSON.stringify(report)}`);
});
