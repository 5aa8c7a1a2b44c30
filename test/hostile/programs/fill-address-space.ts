// Child program: attaches a large segment again and again until the address space runs out, then detaches all.
// The limit is set from inside, once started, as what the process already uses plus 16 GiB: how much address
// space Node itself reserves at start differs between versions (WebAssembly guard regions, the V8 cage), and
// tsx instantiates its WebAssembly lexer just after start (waited for below).
// Argument: a segment id. Prints "results <json>".
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Segment, type SegmentAttachment } from '../../../lib/index.js';

const segment = Segment.fromId(Number(process.argv[2]));
await new Promise((resolve) => setTimeout(resolve, 200));
const usedKiB = Number(/^VmSize:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
execFileSync('prlimit', ['--pid', String(process.pid), `--as=${usedKiB * 1024 + 16 * 2 ** 30}`]);

const attachments: SegmentAttachment[] = [];
let error: { code?: string; message?: string } | undefined;
try {
  for (let i = 0; i < 10000; i++) {
    const attachment = segment.attach();
    attachment.bytes[i] = 1;
    attachments.push(attachment);
  }
} catch (caught) {
  error = caught as Error & { code?: string };
}
const peak = segment.numberAttached;
for (const attachment of attachments) attachment.detach();
console.log('results ' + JSON.stringify({ made: attachments.length, peak, code: error?.code, message: error?.message, after: segment.numberAttached }));
