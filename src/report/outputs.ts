/** RunOutcome → the step's outputs (names from action.yml). */
import { Outputs, type OutputName } from '../config/names.js';
import type { RunOutcome } from './outcome.js';

export function outcomeOutputs(outcome: RunOutcome): Partial<Record<OutputName, string>> {
  return {
    [Outputs.status]: outcome.status,
    [Outputs.exitCode]: outcome.exitCode === undefined ? '' : String(outcome.exitCode),
    [Outputs.duration]: outcome.durationSeconds.toFixed(1),
    [Outputs.logPath]: outcome.logPath,
    [Outputs.metrics]: JSON.stringify(metrics(outcome)),
    ...(outcome.runtime === 'docker' && outcome.workloadId
      ? { [Outputs.containerId]: outcome.workloadId }
      : {}),
    ...(outcome.runtime === 'kubernetes' && outcome.workloadId
      ? { [Outputs.jobName]: outcome.workloadId }
      : {}),
    ...(outcome.git
      ? { [Outputs.branch]: outcome.git.branch, [Outputs.commits]: String(outcome.git.commits) }
      : {}),
  };
}

/** Metrics with their units in their names. */
export function metrics(outcome: RunOutcome): Record<string, number> {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    duration_seconds: round(outcome.durationSeconds),
    ...Object.fromEntries(Object.entries(outcome.phases ?? {}).map(([k, v]) => [k, round(v)])),
    ...(outcome.firstOutputSeconds === undefined
      ? {}
      : { first_output_seconds: round(outcome.firstOutputSeconds) }),
    ...(outcome.relayedLines === undefined ? {} : { log_lines: outcome.relayedLines }),
    ...(outcome.relayedBytes === undefined ? {} : { log_bytes: outcome.relayedBytes }),
  };
}
