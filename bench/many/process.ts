// The processes of bench/many-processes.ts:
//
//   node --import tsx bench/many/process.ts --server '<GroupSpec JSON>'   a group's server (spawned by the runner);
//       writes JSON lines (ServerEvent) on stdout
//   node --import tsx bench/many/process.ts --client '<ClientPayload JSON>'   one of its clients (spawned by the
//       server): control lines on stdin and fd 3, child_process IPC
import { fileURLToPath } from 'node:url';
import { clientMain, type ClientPayload } from './client.js';
import { serverMain } from './server.js';
import type { GroupSpec } from './types.js';

const role = process.argv[2];
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (role === '--server') await serverMain(JSON.parse(process.argv[3]) as GroupSpec);
  else if (role === '--client') await clientMain(JSON.parse(process.argv[3]) as ClientPayload);
  else throw new Error(`usage: bench/many/process.ts --server SPEC | --client PAYLOAD (got '${role}')`);
}
