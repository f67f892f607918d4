/**
 * What each kind of run reports, built once for the action, the reduce sub-action and the CLI:
 * a single run, one shard of a plan, or a whole MapReduce run (fan-out or reduce).
 */
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import type { Conflict } from '../mapreduce/reduce.js';
import { mapReduceFacts, mapReduceMetrics } from '../mapreduce/report.js';
import { itemStatus, type Merged } from '../mapreduce/results.js';
import type { ShardRun } from '../mapreduce/shard.js';
import type { RunOutcome } from '../engine/outcome.js';
import { metrics } from '../report/outputs.js';
import type { ReportInput } from '../report/publish.js';
import { mapReduceSummary, runSummary } from '../report/summary.js';
import { prodigyHomeIn } from '../runtime/spec.js';

export function summaryTitle(settings: Settings): string {
  const workload = settings.workload;
  return workload.kind === 'prodigy' ? `cook-action: ${workload.workflow}` : 'cook-action: command';
}

export function runReport(outcome: RunOutcome, title: string): ReportInput {
  const measured = metrics(outcome);
  return {
    metrics: measured,
    compose: (artifact) =>
      runSummary({ title, outcome, metrics: measured, ...(artifact ? { artifact } : {}) }),
  };
}

export function mapReduceReport(options: {
  readonly title: string;
  readonly outcome: RunOutcome;
  readonly merged: Merged;
  readonly resultsFile: string;
  readonly conflicts?: readonly Conflict[];
  readonly reduceOutcome?: RunOutcome;
}): ReportInput {
  const facts = mapReduceFacts(options);
  const measured = mapReduceMetrics(facts);
  return {
    metrics: measured.full,
    outputMetrics: measured.output,
    resultsFile: options.resultsFile,
    compose: (artifact) => mapReduceSummary({ ...facts, ...(artifact ? { artifact } : {}) }),
  };
}

/** One shard of a plan: its items alone, numbered as in the whole plan. */
export function shardReport(settings: Settings, shard: ShardRun): ReportInput {
  const { results } = shard;
  const failed = results.results.filter((r) => itemStatus(r) !== 'success').length;
  return mapReduceReport({
    title: `${summaryTitle(settings)} (${settings.shard?.name ?? `shard ${results.shard + 1}`})`,
    outcome: shard.outcome,
    resultsFile: shard.file,
    merged: {
      plan: results.plan,
      workflow: results.workflow,
      total: results.results.length,
      successful: results.results.length - failed,
      failed,
      results: results.results,
      shards: [
        {
          shard: results.shard,
          reported: true,
          status: results.status,
          size: results.size,
          attempt: results.attempt,
          results,
          file: shard.file,
        },
      ],
    },
  });
}

/** After `max-parallel`: the reduce's report, or the run's when it ended before a reduce. */
export function fanOutReport(
  settings: Settings,
  outcome: RunOutcome,
  shards: readonly (ShardRun | { readonly error: string })[],
  reduced:
    | {
        readonly merged: Merged;
        readonly file: string;
        readonly conflicts: readonly Conflict[];
        readonly reduceOutcome?: RunOutcome;
      }
    | undefined,
): ReportInput {
  // Each shard's log and Prodigy's records, from the folder it ran in.
  const parts = shards.flatMap((shard) =>
    'outcome' in shard
      ? [
          {
            name: String(shard.results.shard + 1),
            logPath: shard.outcome.logPath,
            prodigyHome: prodigyHomeIn(path.dirname(shard.outcome.logPath)),
          },
        ]
      : [],
  );
  if (!reduced) return { ...runReport(outcome, summaryTitle(settings)), parts };
  const report = mapReduceReport({
    title: summaryTitle(settings),
    outcome,
    merged: reduced.merged,
    resultsFile: reduced.file,
    conflicts: reduced.conflicts,
    ...(reduced.reduceOutcome ? { reduceOutcome: reduced.reduceOutcome } : {}),
  });
  return { ...report, parts };
}
