// Child program: creates a channel, prints "id <shmid>" and stays alive (not sending) until killed or until a line
// arrives on stdin. Argument: capacity (default 4096).
import { Channel } from '../../../lib/index.js';

const producer = Channel.create({ capacity: Number(process.argv[2] ?? 4096) });
console.log(`id ${producer.id}`);
process.stdin.once('data', () => {
  producer.close();
  process.exit(0);
});
