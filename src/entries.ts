/**
 * Every entry point of the bundle: the action's steps (main, post, plan, reduce) and the
 * command-line tool. One bundle serves them all; dist/<entry>/index.js only calls one of these.
 * Each sets the step's or the process's verdict exactly once.
 */
import * as core from '@actions/core';
import { runAction } from './run-action.js';
import { runCli } from './run-cli.js';
import { runPlanAction } from './run-plan.js';
import { runPost } from './run-post.js';
import { runReduceAction } from './run-reduce.js';

function failStep(error: unknown): void {
  core.setFailed(error instanceof Error ? error.message : String(error));
}

export function main(): void {
  runAction().catch(failStep);
}

export function plan(): void {
  runPlanAction().catch(failStep);
}

export function reduce(): void {
  runReduceAction().catch(failStep);
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
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `cook-action: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
