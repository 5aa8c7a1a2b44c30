// Runs the forging child programs of the hostile tests (test/fixtures/sync/forge.ts for the channel,
// mailbox-forge.ts for the mailbox) under a time limit, so that a hang fails a test instead of hanging the run, and
// holds the checks that every forged case shares: what a failure of a peer or of the shared memory looks like.
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { recordProgram, type ChildExit } from './child.js';
import type { Outcome } from '../fixtures/sync/hostile.js';

/** How a program run under a time limit ended: `killed` when it hung and was killed (its output stops there). */
export interface TimedExit extends ChildExit {
  killed: boolean;
}

/** Runs a program to its end, killing it after `ms` (then `killed` is true and its output stops where it hung). */
export async function runWithin(path: string, args: Array<string | number>, ms: number): Promise<TimedExit> {
  const child = recordProgram(path, args);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.child.kill('SIGKILL');
  }, ms);
  const exit = await child.exit;
  clearTimeout(timer);
  return { ...exit, killed };
}

/** What a forged case reports: the call's Outcome, and after an EPROTO what the next call and close() ended with. */
export type ForgedOutcome = Outcome & { again?: string; close?: string };

const FORGE_LIMIT_MS = 60_000;

/**
 * The runs of a forging program (test/fixtures/sync/<program>.ts, argument: the group), one per group. `run()` (for
 * beforeAll) starts all groups at once: each is a few seconds of child start-up and well under a second of work.
 * `outcome()` then reads one case's line "case <name> <method> <json>", failing clearly if the program hung or
 * crashed before reporting it.
 */
export function forgeRuns<Group extends string, Report extends ForgedOutcome>(program: string, groups: readonly Group[]) {
  const path = fileURLToPath(new URL(`../fixtures/sync/${program}.ts`, import.meta.url));
  const runs = new Map<Group, TimedExit>();
  return {
    async run(): Promise<void> {
      const results = await Promise.all(groups.map((group) => runWithin(path, [group], FORGE_LIMIT_MS)));
      groups.forEach((group, i) => {
        runs.set(group, results[i]);
      });
    },
    outcome(group: Group, name: string, method: string): Report {
      const run = runs.get(group)!;
      for (const match of run.stdout.matchAll(/^case (.+) (\w+) (\{.*\})$/gm)) {
        if (match[1] === name && match[2] === method) return JSON.parse(match[3]) as Report;
      }
      throw new Error(
        `${program}.ts ${group}: no result for "${name}" / ${method}: it ${run.killed ? `hung (killed after ${FORGE_LIMIT_MS / 1000} s)` : `ended (code ${run.code}, signal ${run.signal})`} before reporting it. stderr: ${run.stderr}`,
      );
    },
  };
}

/** A failure of a peer or of the shared memory (EPROTO, EPIPE, EBUSY, EAGAIN): a ShmError naming the API call, no syscall. */
export function expectStateError(report: Outcome, operation: string): void {
  expect({ name: report.name, operation: report.operation, syscall: report.syscall }, report.message).toEqual({
    name: 'ShmError',
    operation,
    syscall: undefined,
  });
}

/**
 * EPROTO at once (no wait for the calls' 3 s timeout, no spin; generous bound: a loaded machine must not fail this),
 * repeated by the next call; close() still works.
 */
export function expectEproto(report: ForgedOutcome, operation: string, message: RegExp, within = 2000): void {
  expect(report.code, report.message).toBe('EPROTO');
  expect(report.message).toMatch(message);
  expectStateError(report, operation);
  expect(report.ms).toBeLessThan(within);
  expect(report.again).toBe('EPROTO');
  expect(report.close).toBe('ok');
}
