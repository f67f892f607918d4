/**
 * What every step of the action does before its own work: cancel on SIGINT/SIGTERM, read the
 * settings with every secret masked before the first byte of output, and save what post needs
 * to sweep before anything is created.
 */
import * as core from '@actions/core';
import { readActionSettings, saveRunState } from './config/action.js';
import { Outputs } from './config/names.js';
import { dockerHostString, type Settings } from './config/settings.js';
import { inert } from './logs/inert.js';
import { Masker } from './logs/masker.js';
import { CommandGuard } from './logs/stop-commands.js';
import { ShardFolds } from './logs/shard-folds.js';
import { type FanOut, fanOut } from './mapreduce/fanout.js';
import type { RunOutcome } from './engine/outcome.js';
import { outcomeOutputs } from './report/outputs.js';
import { publishReport, type ReportInput } from './report/publish.js';
import { runLogged } from './run.js';
import { createShardRuntimes } from './runtime/factory.js';
import type { ContainerRuntime } from './runtime/types.js';
import { shardLabel } from './workflow/shards.js';

export interface Step {
  /** Where the step's own output goes. */
  readonly stdout: NodeJS.WritableStream | { write(text: string): unknown };
  readonly settings: Settings;
  readonly masker: Masker;
  readonly signal: AbortSignal;
  /** Runs one workload with the step's log, guard and folding. */
  readonly run: (settings: Settings, onStarted?: (id: string) => void) => Promise<RunOutcome>;
}

/** Secrets known to this step, for say(); set by beginStep before any output. */
let stepMasker: Masker | undefined;

/**
 * The action's own message on the step log: masked, then made inert, since it may quote what
 * the workload wrote (a file name, an item id, an engine's message).
 */
export function say(message: string): void {
  core.info(inert(stepMasker ? stepMasker.mask(message) : message));
}

/** Masks secrets in bytes about to be uploaded, as say() masks a message. */
export function maskUpload(data: Buffer): Buffer {
  return stepMasker ? stepMasker.maskBytes(data) : data;
}

export function beginStep(): Step {
  const cancel = new AbortController();
  const onSignal = (name: string) => () => {
    if (!cancel.signal.aborted) say(`Received ${name}: cancelling the run.`);
    cancel.abort();
  };
  // Handlers stay installed: a second signal must not kill the cleanup under way.
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));

  const masker = new Masker();
  stepMasker = masker;
  const settings = readActionSettings((secret) => {
    masker.add(secret);
  });
  // Before the first byte of output: the runner masks these from here on.
  for (const value of masker.values) core.setSecret(value);

  // Saved before anything is created, so post can sweep even if main is killed.
  saveRunState(
    settings,
    settings.runtime === 'docker' ? dockerHostString(settings.docker) : undefined,
  );
  // Set at once, so it exists even if the step is killed before it ends.
  core.setOutput(Outputs.logPath, settings.logPath);

  const guard = new CommandGuard();
  return {
    stdout: process.stdout,
    settings,
    masker,
    signal: cancel.signal,
    run: (runSettings, onStarted) =>
      runLogged(runSettings, masker, {
        signal: cancel.signal,
        guard,
        foldGroups: true,
        ...(onStarted ? { onStarted } : {}),
      }),
  };
}

/** Fails the step unless the outcome succeeded; says why either way. */
export function conclude(outcome: RunOutcome, what = 'The run'): void {
  if (outcome.status !== 'succeeded') {
    const verb = { failed: 'failed', 'timed-out': 'timed out', cancelled: 'was cancelled' }[
      outcome.status
    ];
    // "The run was cancelled" says it all; a reason that only repeats it is left out.
    const why = /^the run was cancelled$/i.test(outcome.reason) ? '' : `: ${outcome.reason}`;
    core.setFailed(`${what} ${verb}${why}.`);
  } else {
    say(`${what} succeeded (${outcome.reason}) in ${outcome.durationSeconds.toFixed(1)} s.`);
  }
}

/**
 * `max-parallel`: every shard at once, each line prefixed with its shard, and in the step log
 * (fold = true) each shard's output in a fold of its own.
 */
export async function fanOutWithFolds(
  step: Pick<Step, 'settings' | 'masker' | 'signal' | 'run' | 'stdout'>,
  shardCount: number,
  fold: boolean,
  note: (message: string) => void,
): Promise<FanOut> {
  let folds: ShardFolds | undefined;
  let runtimeFor: ((index: number) => ContainerRuntime) | undefined;
  let count = 0;
  const prefix = (index: number) => `[shard ${index + 1}/${count}] `;
  return fanOut(step.settings, shardCount, {
    run: (settings) => step.run(settings),
    signal: step.signal,
    planned: (planned) => {
      count = planned.plan.shards.length;
      runtimeFor = createShardRuntimes(step.settings, count, count);
      folds = new ShardFolds(
        step.stdout,
        planned.plan.shards.map(
          (s) =>
            `${shardLabel(s.index, count)}: ${s.size === 0 ? 'no items' : `${s.size} item(s), item_${s.first} to item_${s.first + s.size - 1}`}`,
        ),
        fold,
      );
    },
    runShardWorkload: (settings, index) =>
      runLogged(settings, step.masker, {
        signal: step.signal,
        ...(fold ? { guard: new CommandGuard() } : {}),
        stdout: folds!.writer(index),
        stderr: folds!.writer(index),
        linePrefix: prefix(index),
        runtime: runtimeFor!(index),
      }),
    shardEnded: (index) => folds!.end(index),
    note,
    shardNote: (index, message) =>
      folds!.writer(index).write(`${prefix(index)}${inert(step.masker.mask(message))}\n`),
  });
}

/** Outputs from the outcome, and its warnings as annotations; `metrics` comes with the report. */
export function setOutcomeOutputs(outcome: RunOutcome): void {
  for (const warning of outcome.warnings ?? []) {
    core.warning(stepMasker ? stepMasker.mask(warning) : warning);
  }
  for (const [name, value] of Object.entries(outcomeOutputs(outcome))) {
    if (name !== Outputs.metrics) core.setOutput(name, value);
  }
}

export async function report(settings: Settings, input: ReportInput): Promise<void> {
  await publishReport(settings, input, {
    mask: maskUpload,
    note: say,
    notice: (message) => core.notice(message),
    warning: (message) => core.warning(message),
    setOutput: (name, value) => core.setOutput(name, value),
    writeSummary: async (markdown) => {
      await core.summary.addRaw(markdown, true).write();
    },
  });
}
