/** RunOutcome → the step's outputs (names from action.yml). */
import { Outputs, type OutputName } from '../config/names.js';
import type { ClaudeFigures, ClaudeUsage } from '../results/claude-records.js';
import type { RunOutcome } from '../engine/outcome.js';

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
    ...(outcome.claude ? { [Outputs.costUsd]: String(outcome.claude.costUsd) } : {}),
    ...(outcome.git
      ? {
          // A name the action refused (results/git.ts) is never an output, even escaped.
          ...(outcome.git.refusedBranch ? {} : { [Outputs.branch]: outcome.git.branch }),
          [Outputs.commits]: String(outcome.git.commits),
        }
      : {}),
  };
}

/** The order phases happen in, which is the order they are shown in. */
export const PHASES = [
  'prepare_seconds',
  'pull_seconds',
  'schedule_seconds',
  'start_seconds',
  'run_seconds',
  'copy_back_seconds',
  'cleanup_seconds',
] as const;

export type RunMetrics = Record<string, number | string | object>;

/** Metrics with their units in their names. */
export function metrics(outcome: RunOutcome): RunMetrics {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const phases = outcome.phases ?? {};
  const usage = outcome.usage;
  return {
    duration_seconds: round(outcome.durationSeconds),
    ...Object.fromEntries(
      [...PHASES, ...Object.keys(phases).filter((k) => !(PHASES as readonly string[]).includes(k))]
        .filter((k) => phases[k] !== undefined)
        .map((k) => [k, round(phases[k]!)]),
    ),
    ...(outcome.firstOutputSeconds === undefined
      ? {}
      : { first_output_seconds: round(outcome.firstOutputSeconds) }),
    ...(outcome.relayedLines === undefined ? {} : { log_lines: outcome.relayedLines }),
    ...(outcome.relayedBytes === undefined ? {} : { log_bytes: outcome.relayedBytes }),
    ...(usage
      ? {
          ...(usage.cpuSeconds === undefined ? {} : { cpu_seconds: round(usage.cpuSeconds) }),
          ...(usage.memoryPeakBytes === undefined
            ? {}
            : { memory_peak_bytes: usage.memoryPeakBytes }),
          ...(usage.networkRxBytes === undefined ? {} : { network_rx_bytes: usage.networkRxBytes }),
          ...(usage.networkTxBytes === undefined ? {} : { network_tx_bytes: usage.networkTxBytes }),
          ...(usage.blockReadBytes === undefined ? {} : { block_read_bytes: usage.blockReadBytes }),
          ...(usage.blockWriteBytes === undefined
            ? {}
            : { block_write_bytes: usage.blockWriteBytes }),
          usage_source: usage.source,
        }
      : {}),
    ...(outcome.claude ? claudeMetrics(outcome.claude) : {}),
  };
}

/** Claude's figures with units in their names: flat for the whole, nested per model and item. */
export function claudeMetrics(usage: ClaudeUsage): RunMetrics {
  const flat = (f: ClaudeFigures) => ({
    cost_usd: f.costUsd,
    input_tokens: f.tokens.input,
    output_tokens: f.tokens.output,
    cache_read_tokens: f.tokens.cacheRead,
    cache_write_tokens: f.tokens.cacheWrite,
    claude_turns: f.turns,
    claude_sessions: f.sessions,
    ...(f.unpricedSessions > 0 ? { claude_unpriced_sessions: f.unpricedSessions } : {}),
  });
  const each = (map: Readonly<Record<string, ClaudeFigures>>) =>
    Object.fromEntries(Object.entries(map).map(([key, f]) => [key, flat(f)]));
  return {
    ...flat(usage),
    claude_models: each(usage.models),
    ...(Object.keys(usage.items).length > 0 ? { claude_items: each(usage.items) } : {}),
  };
}
