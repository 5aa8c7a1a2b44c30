// npm run repl: the sysv-shm REPL from a checkout (the installed package has it as `sysv-shm repl`).
// History: ~/.sysv_shm_repl_history, or $SYSV_SHM_REPL_HISTORY ('' turns it off).
import { startSession, typeScriptTransform } from '../lib/internal.js';

const { closed } = startSession({ transform: typeScriptTransform()?.transform });
await closed;
process.exit(0);
