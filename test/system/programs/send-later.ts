// Child program: creates a channel and prints "id <shmid>", then sends one message ("late") `delay` ms later and
// closes its end.
import { Channel } from '../../../lib/index.js';

const delay = Number(process.argv[2]);
const producer = Channel.create({ capacity: 4096 });
console.log(`id ${producer.id}`);
await new Promise((resolve) => setTimeout(resolve, delay));
producer.send(new TextEncoder().encode('late'));
producer.close();
