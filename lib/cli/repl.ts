// sysv-shm repl: the REPL of the checkout's `npm run repl`, from the installed package.
import { startSession } from '../repl/session.js';
import { typeScriptTransform } from '../repl/typescript.js';
import { UsageError, type Command } from './args.js';

export const replCommand: Command = {
  name: 'repl',
  summary: 'a Node REPL with the library in scope; what you create there is removed when you leave',
  help: `Usage: sysv-shm repl

A Node REPL with sysv-shm loaded: the library is 'shm'; Segment, Channel, list,
ftok, shmget, shmat, shmdt, shmctl, wait, notify, the IPC_* and SHM_* constants
are in scope, with the helpers ls(), hexdump(x), watch(segment), keep(segment).
.shm shows them. TypeScript works where Node can strip types (22.13 and later).
Segments created in the session are removed and attachments detached when you
leave (.exit or Ctrl-D).

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
