/**
 * A MapReduce run's results → what the reports show: the summary's facts (shards over time,
 * every item) and the metrics (per shard and per item, units in the names).
 */
import type { RunOutcome } from '../engine/outcome.js';
import { claudeMetrics, metrics, type RunMetrics } from '../report/outputs.js';
import type { ClaudeUsage } from '../results/claude-records.js';
import type { ItemFacts, MapReduceFacts, ShardFacts } from '../report/summary.js';
import { layoutShards } from '../workflow/shards.js';
import type { Conflict } from './reduce.js';
import { type AgentResult, itemStatus, type Merged } from './results.js';

/** Prodigy's Duration ({secs, nanos}) → seconds. */
function seconds(duration: unknown): number | undefined {
  if (duration === null || typeof duration !== 'object') return undefined;
  const { secs, nanos } = duration as { secs?: unknown; nanos?: unknown };
  if (typeof secs !== 'number') return undefined;
  return secs + (typeof nanos === 'number' ? nanos / 1e9 : 0);
}

function errorOf(result: AgentResult): string | undefined {
  if (typeof result.error === 'string' && result.error !== '') return result.error;
  const status = result.status;
  if (status && typeof status === 'object') {
    const failed = (status as Record<string, unknown>).Failed;
    if (typeof failed === 'string') return failed;
  }
  return undefined;
}

/** The plan's layout: from any shard's results (they carry it), else from the merge. */
function planLayout(merged: Merged) {
  const any = merged.shards.find((s) => s.results)?.results;
  const shards = any?.shards ?? merged.shards.length;
  return { shards, layout: layoutShards(any?.total ?? merged.total, { shards }) };
}

export function shardFacts(merged: Merged): ShardFacts[] {
  const { shards, layout } = planLayout(merged);
  return merged.shards.map((s) => {
    const r = s.results;
    const startedAt = r?.startedAt ? Date.parse(r.startedAt) : undefined;
    return {
      shard: s.shard,
      shards,
      status: s.status,
      ...(r ? { reason: r.reason, durationSeconds: r.durationSeconds, attempt: r.attempt } : {}),
      size: s.size,
      first: layout[s.shard]?.first ?? 0,
      ...(startedAt !== undefined && !Number.isNaN(startedAt) ? { startedAt } : {}),
      ...(r?.metrics ? { metrics: r.metrics } : {}),
      ...(r?.logTail ? { logTail: r.logTail } : {}),
    };
  });
}

export function itemFacts(merged: Merged, claude?: ClaudeUsage): ItemFacts[] {
  const { layout } = planLayout(merged);
  const shardOf = (position: number) =>
    layout.find((part) => position >= part.first && position < part.first + part.size)?.index ?? 0;
  return merged.results.map((result, position) => {
    const match = /^item_(\d+)$/.exec(String(result.item_id));
    const duration = seconds(result.duration);
    const error = errorOf(result);
    const used = claude?.items[String(result.item_id)];
    return {
      id: String(result.item_id),
      shard: shardOf(match ? Number(match[1]) : position),
      status: itemStatus(result),
      ...(duration === undefined ? {} : { durationSeconds: duration }),
      ...(error === undefined ? {} : { error }),
      ...(used ? { claude: used } : {}),
    };
  });
}

export function mapReduceFacts(options: {
  readonly title: string;
  readonly outcome: RunOutcome;
  readonly merged: Merged;
  readonly conflicts?: readonly Conflict[];
  readonly reduceOutcome?: RunOutcome;
}): MapReduceFacts {
  return {
    title: options.title,
    outcome: options.outcome,
    workflow: options.merged.workflow,
    shards: shardFacts(options.merged),
    items: itemFacts(options.merged, options.outcome.claude),
    conflicts: options.conflicts ?? [],
    ...(options.reduceOutcome
      ? { reduce: { outcome: options.reduceOutcome, metrics: metrics(options.reduceOutcome) } }
      : {}),
  };
}

/** Beyond this, the `metrics` output leaves the items out (the artifact's metrics.json has them). */
const ITEMS_IN_OUTPUT_BYTES = 256 * 1024;

export interface MapReduceMetrics {
  /** For the artifact's metrics.json: everything. */
  readonly full: Record<string, unknown>;
  /** For the `metrics` output: the same, less the items when they are many. */
  readonly output: Record<string, unknown>;
}

/** The whole run's metrics, with per-shard, per-item and reduce metrics inside. */
export function mapReduceMetrics(facts: MapReduceFacts): MapReduceMetrics {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const failed = facts.items.filter((i) => i.status !== 'success').length;
  const shards = facts.shards.map((s) => ({
    shard: s.shard + 1,
    status: s.status,
    items: s.size,
    ...(s.attempt === undefined ? {} : { attempt: s.attempt }),
    ...(s.durationSeconds === undefined ? {} : { duration_seconds: round(s.durationSeconds) }),
    ...withoutKeys(withoutDuration(s.metrics), ['claude_items']),
  }));
  const items = facts.items.map((i) => ({
    item_id: i.id,
    shard: i.shard + 1,
    status: i.status,
    ...(i.durationSeconds === undefined ? {} : { duration_seconds: round(i.durationSeconds) }),
    ...(i.claude ? withoutNesting(claudeMetrics({ ...i.claude, models: {}, items: {} })) : {}),
  }));
  const base = {
    // The items carry their own Claude figures.
    ...withoutKeys(metrics(facts.outcome), ['claude_items']),
    items_total: facts.items.length,
    items_failed: failed,
    shards,
    ...(facts.reduce ? { reduce: facts.reduce.metrics } : {}),
  };
  const full = { ...base, items };
  const output =
    Buffer.byteLength(JSON.stringify(full)) <= ITEMS_IN_OUTPUT_BYTES
      ? full
      : { ...base, items_omitted: 'too many for an output: see metrics.json in the artifact' };
  return { full, output };
}

function withoutKeys(m: RunMetrics, keys: readonly string[]): RunMetrics {
  return Object.fromEntries(Object.entries(m).filter(([key]) => !keys.includes(key)));
}

function withoutNesting(m: RunMetrics): RunMetrics {
  return Object.fromEntries(Object.entries(m).filter(([, value]) => typeof value !== 'object'));
}

/** A shard's own metrics, less its run's duration (the shard's duration is given beside it). */
function withoutDuration(m: RunMetrics | undefined): RunMetrics {
  if (!m) return {};
  return Object.fromEntries(Object.entries(m).filter(([key]) => key !== 'duration_seconds'));
}
