// Child program: a process that keeps waking the consumer of channel <id> (FUTEX_WAKE on its bell, as a buggy
// or hostile process of the same user could), without sending anything. Prints "ringing", runs until killed.
import { notify, shmat } from '../../../lib/index.js';
import { W } from './hostile.js';

const view = new Int32Array(shmat(Number(process.argv[2])).buffer);
console.log('ringing');
for (;;) {
  for (let i = 0; i < 1000; i++) notify(view, W.consumerBell, 1);
  await new Promise((resolve) => setImmediate(resolve));
}
