#!/usr/bin/env node
// The sysv-shm command: a thin launcher for the built CLI (npm run build makes dist/). In a checkout without a
// build, use `npm run cli -- <command>`, which runs the TypeScript through tsx.
import { run } from '../dist/lib/cli/main.js';

await run();
