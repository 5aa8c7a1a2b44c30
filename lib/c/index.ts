// The C-shaped layer's public API: what the layers above it (segment, system, sync, cli, repl) may use. Names
// and semantics are C's (with exceptions instead of -1); the system's own view (/proc/sysvipc) and the futex and
// signal primitives that waits need are here too, so that no upper layer reaches into native/.
export { ftok } from './ftok.js';
export { shmget } from './shmget.js';
export { shmat, shmdt, type ShmatOptions } from './shmat.js';
export { Attachment, attachmentOf, type BufferOwner } from './attachment.js';
export { shmctl, statOrProc, type SegmentFacts, type ShminfoResult, type ShmInfoResult, type ShmidDsWithId } from './shmctl.js';
export * from './constants.js';
export { ShmError, stateError, errnoError, type ShmErrorFields } from './errors.js';
export { readProcShm, procRowById, procRowByKey, readKernelTunable, type ProcShmRow } from '../native/procfs.js';
export { futexSyscall, type FutexSyscall, type SyscallResult } from '../native/syscall.js';
export { pageSize } from './page-size.js';
export { processExists } from './process.js';
export { allowDuringWaits, disallowDuringWaits, runPendingTerminationListeners, TERMINATION_SIGNALS } from '../native/signals.js';
