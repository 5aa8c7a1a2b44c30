// Setup file of emulated runs (test/emulated/vitest.config.ts): before each test, let the event loop turn once.
//
// Why: a vitest worker reports test progress to the main process with calls that time out after 60 s, and only
// reads the answers when its event loop turns. Tests that block in spawnSync (most of test/c-api/safety.test.ts and
// permissions.test.ts) run back to back without a turn; under qemu each child process takes 5 to 20 s, so a file's
// run of them passes 60 s and the next turn fires the timer before it reads the answer that has long arrived:
// "[vitest-worker]: Timeout calling "onTaskUpdate"", an unhandled error that fails the run with no test failed.
// setImmediate runs after the poll phase, so the waiting answers are read first.
import { beforeEach } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
