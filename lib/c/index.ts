// The C-shaped layer's public API: what the layers above it (segment, system, sync, cli, repl) may use. Names
// and semantics are C's (with exceptions instead of -1); the system's own view (/proc/sysvipc) and the futex and
// signal primitives that waits need are here too, so that no upper layer reaches into native/.
export { ftok } from './ftok.js';
export { shmget } from './shmget.js';
export { shmat, shmdt, type ShmatOptions } from './shmat.js';
export { Attachment, attachmentOf } from './attachment.js';
export { shmctl, statOrProc } from './shmctl.js';
export { semget } from './semget.js';
export { semop, semtimedop, semopWithin, SEM_SLICE_MS, type SemOperation } from './semop.js';
export { semctl, semStatOrAny, type SeminfoResult, type SemidDsWithId } from './semctl.js';
export { msgget } from './msgget.js';
export { msgsnd, msgsndWithin } from './msgsnd.js';
export { msgrcv, msgrcvWithin, type ReceivedMessage } from './msgrcv.js';
export { msgctl, msgStatOrAny, type MsginfoResult, type MsqidDsWithId, type MsgctlSetPatch } from './msgctl.js';
export { pollUntil, sleepMs, POLL_MIN_MS, POLL_MAX_MS, POLL_SPIN_MS, type Attempt } from './poll-wait.js';
export * from './constants.js';
export { ShmError, errnoError, stateError } from './errors.js';
export { readProcShm, readKernelTunable, type ProcShmRow } from '../native/procfs.js';
export { readProcSem, readProcMsg, readKernelSemLimits, type ProcSemRow, type ProcMsgRow, type KernelSemLimits } from '../native/procfs.js';
export { futexSyscall } from '../native/syscall.js';
export { futexWaitvSyscall, permanentMemory, type FutexWaitvSyscall } from '../native/futex-waitv.js';
export { sockets, type Sockets } from '../native/socket.js';
export { pageSize } from './page-size.js';
export { processExists } from './process.js';
export { allowDuringWaits, disallowDuringWaits, runPendingTerminationListeners } from '../native/signals.js';
