// The explicit internal entry: what tests and benchmarks need beyond the package's public API (lib/index.ts).
// Nothing here is part of the published API; the package's exports map does not expose this file.
export { readProcShm, procRowById, procRowByKey, type ProcShmRow } from './native/procfs.js';
export { readProcSem, readProcMsg, readKernelSemLimits, type ProcSemRow, type ProcMsgRow, type KernelSemLimits } from './native/procfs.js';
export { libc, libcHandle } from './native/libc.js';
export { koffi } from './native/koffi.js';
export { futexCallCounts, WAIT_SPIN, ASYNC_SLICE_MS } from './sync/futex.js';
export { wordWatcherStats, configureWordWatcher, PERIODIC_MS, type WatcherStats } from './sync/word-watcher.js';
export { DEFAULT_SPIN as CHANNEL_DEFAULT_SPIN, SLICE_MS as CHANNEL_SLICE_MS } from './sync/channel/index.js';
export { addressSpaceStats } from './c/address-space.js';
export { processExists } from './c/process.js';
export { MAX_TIMEOUT_MS } from './common/arguments.js';
export { targets } from './abi/targets/index.js';
export type { AbiDescription, FieldLayout, StructLayout } from './abi/types.js';
export { main as cliMain } from './cli/main.js';
export { CHUNK as CLI_CHUNK, WINDOW as CLI_WINDOW } from './cli/stream.js';
export { startSession } from './repl/session.js';
export { typeScriptTransform } from './repl/typescript.js';
export * as ringLayout from './sync/ring-layout.js';
export * as mailboxLayout from './sync/mailbox/layout.js';
export { sockets, type Sockets } from './native/socket.js';
export { doorbellStats } from './sync/doorbell/doorbell.js';
export { SpinPolicy, MAX_PROBE_INTERVAL, MAX_SPIN_MS, PROBE_INTERVAL, SHORT_SLEEP_MS } from './sync/spin-policy.js';
export { WordCopier, WORD_COPY_MAX } from './sync/small-copy.js';
export { OrderedRanges, type Range } from './c/ordered-ranges.js';
export { sysvWaitStats, MIN_POLL_MS, MAX_POLL_MS } from './sysv-wait/index.js';
export { POLL_MIN_MS, POLL_MAX_MS, POLL_SPIN_MS } from './c/index.js';
