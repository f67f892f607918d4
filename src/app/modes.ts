/**
 * What a step does, chosen in one place for every host: plan a MapReduce workflow's shards,
 * reduce their results, run every shard at once (`max-parallel`), run one planned shard, or run
 * one workload; then its outputs, its report, and its verdict.
 */
import { readResultFiles, readShardRequest } from '../config/mapreduce.js';
import { type OutputName, Outputs } from '../config/names.js';
import type { InputSource } from '../config/settings.js';
import type { RunOutcome } from '../engine/outcome.js';
import { inert } from '../logs/inert.js';
import { ShardFolds } from '../logs/shard-folds.js';
import { CommandGuard } from '../logs/stop-commands.js';
import {
  downloadAllResults,
  uploadPlan,
  uploadShardResults,
  type Announce,
} from '../mapreduce/artifacts.js';
import { type FanOut, fanOut } from '../mapreduce/fanout.js';
import { planMatrix } from '../mapreduce/matrix.js';
import { makePlan } from '../mapreduce/plan.js';
import { runReduce } from '../mapreduce/reduce.js';
import { runShard } from '../mapreduce/shard.js';
import { downloadArtifact } from '../report/artifacts.js';
import { outcomeOutputs } from '../report/outputs.js';
import { publishReport, type ReportInput } from '../report/publish.js';
import { planSummary } from '../report/summary.js';
import { runLogged } from '../run.js';
import { loadRuntimes } from '../runtime/factory.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { shardLabel } from '../workflow/shards.js';
import type { Host } from './host.js';
import { fanOutReport, mapReduceReport, runReport, shardReport, summaryTitle } from './reports.js';

export type Mode = 'run' | 'plan' | 'reduce';

/** Runs the step in `mode`; its outcome, or none for a plan (which runs nothing of its own). */
export async function runMode(
  mode: Mode,
  host: Host,
  input: InputSource,
): Promise<RunOutcome | undefined> {
  if (mode === 'plan') return plan(host, input);
  if (mode === 'reduce') return reduce(host, input);
  if (host.settings.maxParallel !== undefined) return fanOutAll(host, host.settings.maxParallel);
  if (host.settings.shard) return oneShard(host);
  return oneRun(host);
}

function announce(host: Host): Announce {
  return {
    note: (message) => host.note(message),
    notice: (message) => host.notice(message),
    mask: (data) => host.masker.maskBytes(data),
  };
}

async function oneRun(host: Host): Promise<RunOutcome> {
  const { settings } = host;
  const outcome = await host.run(settings, (id) => {
    if (settings.runtime === 'docker') host.setOutput(Outputs.containerId, id);
    if (settings.runtime === 'kubernetes') host.setOutput(Outputs.jobName, id);
  });
  setOutcomeOutputs(host, outcome);
  await report(host, runReport(outcome, summaryTitle(settings)));
  host.conclude(outcome, 'The run');
  return outcome;
}

async function oneShard(host: Host): Promise<RunOutcome> {
  const { settings } = host;
  const entry = settings.shard!;
  const shard = await runShard(settings, entry, {
    run: (s) => host.run(s),
    note: (message) => host.note(message),
    ...(settings.github.artifactService ? { downloadPlan: downloadArtifact } : {}),
  });
  host.setOutput(Outputs.results, shard.file);
  await uploadShardResults(settings, shard, announce(host));
  setOutcomeOutputs(host, shard.outcome);
  await report(host, shardReport(settings, shard));
  host.conclude(shard.outcome, `The ${entry.name}`);
  return shard.outcome;
}

async function fanOutAll(host: Host, shardCount: number): Promise<RunOutcome> {
  const { settings } = host;
  const fanned = await fanOutWithFolds(host, shardCount);
  setOutcomeOutputs(host, fanned.outcome);
  if (fanned.reduced) host.setOutput(Outputs.results, fanned.reduced.file);
  await report(host, fanOutReport(settings, fanned.outcome, fanned.shards, fanned.reduced));
  host.conclude(fanned.outcome, 'The run');
  return fanned.outcome;
}

async function plan(host: Host, input: InputSource): Promise<undefined> {
  const { settings } = host;
  const planned = await makePlan(settings, readShardRequest(input), {
    run: (s) => host.run(s),
    note: (message) => host.note(message),
  });
  const artifact = await uploadPlan(settings, planned, announce(host));
  const { text, inline } = planMatrix(planned, artifact);
  if (!inline) {
    host.note(
      `The matrix would pass 256 KiB with the items in it; each shard reads its items from ${artifact ? `the artifact ${artifact}` : planned.dir}.`,
    );
  }
  host.setOutput(Outputs.matrix, text);
  host.setOutput(Outputs.itemCount, String(planned.plan.itemCount));
  host.setOutput(Outputs.shardCount, String(planned.plan.shards.length));
  if (settings.summary) await host.writeSummary(planSummary(planned.plan));
  host.note(
    `Planned ${planned.plan.itemCount} item(s) in ${planned.plan.shards.length} shard(s) (plan ${planned.plan.id}).`,
  );
  return undefined;
}

async function reduce(host: Host, input: InputSource): Promise<RunOutcome> {
  const { settings } = host;
  const given = readResultFiles(input);
  if (given.length === 0 && !settings.github.artifactService) {
    host.notice(
      "No artifact service here (not in GitHub Actions): reduce reads only the results files given in 'results'.",
    );
  }
  const reduced = await runReduce(settings, given, {
    run: (s) => host.run(s),
    note: (message) => host.note(message),
    ...(settings.github.artifactService ? { downloadResults: downloadAllResults } : {}),
  });
  setOutcomeOutputs(host, reduced.outcome);
  host.setOutput(Outputs.results, reduced.file);
  await report(
    host,
    mapReduceReport({
      title: `cook-action reduce: ${reduced.merged.workflow}`,
      outcome: reduced.outcome,
      merged: reduced.merged,
      resultsFile: reduced.file,
      conflicts: reduced.conflicts,
      ...(reduced.reduceOutcome ? { reduceOutcome: reduced.reduceOutcome } : {}),
    }),
  );
  host.conclude(reduced.outcome, 'The reduce');
  return reduced.outcome;
}

/**
 * `max-parallel`: every shard at once, each line prefixed with its shard, and (when the host
 * folds) each shard's output in a fold of its own.
 */
async function fanOutWithFolds(host: Host, shardCount: number): Promise<FanOut> {
  let folds: ShardFolds | undefined;
  let runtimeFor: ((index: number) => ContainerRuntime) | undefined;
  let count = 0;
  const prefix = (index: number) => `[shard ${index + 1}/${count}] `;
  const runtimes = await loadRuntimes(host.settings);
  return fanOut(host.settings, shardCount, {
    run: (settings) => host.run(settings),
    signal: host.signal,
    planned: (planned) => {
      count = planned.plan.shards.length;
      runtimeFor = runtimes.shards(count, count);
      folds = new ShardFolds(
        host.stdout,
        planned.plan.shards.map(
          (s) =>
            `${shardLabel(s.index, count)}: ${s.size === 0 ? 'no items' : `${s.size} item(s), item_${s.first} to item_${s.first + s.size - 1}`}`,
        ),
        host.foldShards,
      );
    },
    runShardWorkload: (settings, index) =>
      runLogged(settings, host.masker, {
        signal: host.signal,
        ...(host.foldShards ? { guard: new CommandGuard() } : {}),
        stdout: folds!.writer(index),
        stderr: folds!.writer(index),
        linePrefix: prefix(index),
        runtime: runtimeFor!(index),
      }),
    shardEnded: (index) => folds!.end(index),
    note: (message) => host.note(message),
    shardNote: (index, message) =>
      folds!.writer(index).write(`${prefix(index)}${inert(host.masker.mask(message))}\n`),
  });
}

/** Outputs from the outcome, and its warnings; `metrics` comes with the report. */
function setOutcomeOutputs(host: Host, outcome: RunOutcome): void {
  for (const warning of outcome.warnings ?? []) host.warning(host.masker.mask(warning));
  for (const [name, value] of Object.entries(outcomeOutputs(outcome))) {
    if (name !== Outputs.metrics) host.setOutput(name as OutputName, value);
  }
}

async function report(host: Host, input: ReportInput): Promise<void> {
  await publishReport(host.settings, input, {
    mask: (data) => host.masker.maskBytes(data),
    note: (message) => host.note(message),
    notice: (message) => host.notice(message),
    warning: (message) => host.warning(message),
    setOutput: (name, value) => host.setOutput(name, value),
    writeSummary: (markdown) => host.writeSummary(markdown),
  });
}
