// The echoing side of pingpong.ts.
import net from 'node:net';
import { once } from 'node:events';
import { attach, notify } from './common.ts';
import { WaitEngine } from './engine.mjs';
import { waitAsync } from '/work/main/lib/index.js';

const send = (m: unknown) => process.send!(m);
process.on('message', async (cmd: any) => {
  if (typeof cmd !== 'object' || cmd === null || !('mode' in cmd)) return; // payloads of the ipc mode
  const { mode, total } = cmd;
  if (mode === 'quit') process.exit(0);
  if (mode === 'uds') {
    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      sock.on('data', (chunk) => sock.write(chunk)); // echo
    });
    server.listen(cmd.path);
    await once(server, 'listening');
    send('ready');
    const [sock] = await once(server, 'connection');
    await once(sock, 'close');
    server.close();
    send('done');
  } else if (mode === 'ipc') {
    let n = 0;
    const echo = (m: unknown) => {
      if (m instanceof Uint8Array) {
        process.send!(m);
        if (++n === total) { process.off('message', echo); send('done'); }
      }
    };
    process.on('message', echo);
    send('ready');
  } else {
    const seg = attach(cmd.id);
    const v = seg.view;
    const u8 = new Uint8Array(seg.att.buffer);
    const engine = mode === 'today' ? undefined : new WaitEngine({ report: mode === 'port' ? 'port' : 'atomics', forcePoll: mode === 'poll', pollMs: 1, lingerUs: mode === 'linger' ? Number(process.env.LINGER_US ?? 200) : 0 });
    const waitFn = engine
      ? (i: number, e: number) => engine.wait(v, i, e)
      : (i: number, e: number) => waitAsync(v, i, e, Infinity, { sliceMs: 50 });
    if (engine) await engine.ready();
    send('ready');
    for (let i = 1; i <= total; i++) {
      for (let cur = Atomics.load(v, 0); cur !== i; cur = Atomics.load(v, 0)) await waitFn(0, cur);
      u8.copyWithin(2048, 1024, 1088);
      Atomics.store(v, 32, i);
      notify(v, 32);
    }
    engine?.close({ wait: true });
    seg.att; // detached at exit
    send('done');
  }
});
