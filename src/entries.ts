/**
 * Every entry point of the bundle: the action's steps (main, post, plan, reduce) and the
 * command-line tool. One bundle serves them all; dist/<entry>/index.js only calls one of these.
 * Each sets the step's or the process's verdict exactly once.
 */
import * as core from '@actions/core';
import { Outputs } from './config/names.js';
import { runAction } from './run-action.js';
import { runCli } from './run-cli.js';
import { runPlanAction } from './run-plan.js';
import { runPost } from './run-post.js';
import { runReduceAction } from './run-reduce.js';
import { guardVerdict, verdictDecided } from './verdict-guard.js';

function failStep(error: unknown): void {
  verdictDecided();
  core.setFailed(error instanceof Error ? error.message : String(error));
}

/** A step whose verdict is its own path's, or the guard's when that path never ends. */
function step(body: () => Promise<void>, hasStatus: boolean): void {
  guardVerdict((message) => {
    if (hasStatus) core.setOutput(Outputs.status, 'failed');
    core.setFailed(message);
  });
  body().then(verdictDecided, failStep);
}

export function main(): void {
  step(runAction, true);
}

export function plan(): void {
  step(runPlanAction, false);
}

export function reduce(): void {
  step(runReduceAction, true);
}

export function post(): void {
  // Cleanup is best effort: a failure here is reported, but never fails the job on its own.
  runPost().catch((error: unknown) => {
    core.warning(
      `Cleanup after the run failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
}

export function cli(argv: readonly string[]): void {
  guardVerdict((message) => {
    process.stderr.write(`cook-action: ${message}\n`);
    process.exitCode = 2;
  });
  runCli(argv).then(
    (code) => {
      verdictDecided();
      process.exitCode = code;
    },
    (error: unknown) => {
      verdictDecided();
      process.stderr.write(
        `cook-action: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
