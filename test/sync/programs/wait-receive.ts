// Child program: opens channel <id> as its consumer, prints "open", and at the first line on stdin calls
// receive({ timeoutMs }) on the (empty) channel; prints "result <json Outcome>". Arguments: id, timeoutMs.
import { Channel } from '../../../lib/index.js';
import { outcomeOf } from './hostile.js';

const [id, timeoutMs] = process.argv.slice(2).map(Number);
const consumer = Channel.open(id);
console.log('open');
process.stdin.once('data', async () => {
  const outcome = await outcomeOf(() => consumer.receive({ timeoutMs }));
  consumer.close();
  process.stdout.write(`result ${JSON.stringify(outcome)}\n`, () => process.exit(0));
});
