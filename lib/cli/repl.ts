// sysv-shm repl: the REPL of the checkout's `npm run repl`, from the installed package.
import { startSession } from '../repl/session.js';
import { typeScriptTransform } from '../repl/typescript.js';
import { UsageError, type Command } from './args.js';

export const replCommand: Command = {
  name: 'repl',
  summary: 'a Node REPL with the library in scope; what you create there is removed when you leave',
  help: `Usage: sysv-shm repl

A Node REPL with sysv-shm loaded: the library is 'shm'; Segment, SemaphoreSet,
MessageQueue, Channel, list, listSemaphores, listQueues, ftok, shmget, shmat,
shmdt, shmctl, semget, semop, semtimedop, semctl, msgget, msgsnd, msgrcv, msgctl,
wait, notify, the IPC_*, SHM_*, SEM_*, MSG_* and GET*/SET* constants are in
scope, with the helpers ls() (ls('sem'), ls('msg'), ls('all') as ipcs -s, -q,
-a), hexdump(x), watch(segment), keep(x). .shm shows them. TypeScript works
where Node can strip types (22.13 and later). Segments, semaphore sets and
message queues created in the session are removed and attachments detached
when you leave (.exit or Ctrl-D), unless keep(x).

History: ~/.sysv_shm_repl_history, or the file $SYSV_SHM_REPL_HISTORY names
('' turns it off).

Options:
  -h, --help      this help
`,
  options: {},
  async run(_values, positionals) {
    if (positionals.length > 0) throw new UsageError(`repl takes no arguments (got ${positionals.join(' ')})`, 'repl');
    const { closed } = startSession({ transform: typeScriptTransform()?.transform });
    await closed;
    return 0;
  },
};
