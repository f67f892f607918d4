/**
 * Per-item results of a shard, and their merge into what Prodigy's own reduce would see. Item
 * results are Prodigy's AgentResult objects, kept as Prodigy wrote them, except that `item_id`
 * names the item's place in the whole list (`item_<n>`, the id an unsharded run gives it) rather
 * than its place in the shard. Pure, apart from reading and writing the files.
 */
import type { RunStatus } from '../engine/outcome.js';
import { itemId, layoutShards, type ShardLayout, shardLabel } from '../workflow/shards.js';
import type { ClaudeUsage } from '../results/claude-records.js';
import { ReadLimits, readUntrustedText } from '../results/untrusted.js';

export const RESULTS_FORMAT = 'cook-action/shard-results@1';

/** One of Prodigy's AgentResult objects (`${map.results}` elements). */
export type AgentResult = Readonly<Record<string, unknown>> & { readonly item_id: string };

export interface ShardResults {
  readonly format: typeof RESULTS_FORMAT;
  readonly plan: string;
  readonly workflow: string;
  readonly shard: number;
  readonly shards: number;
  /** Items in the whole plan: with `shards`, it gives every shard's layout. */
  readonly total: number;
  readonly first: number;
  readonly size: number;
  /** GITHUB_RUN_ATTEMPT of the job that ran the shard (1 outside GitHub). */
  readonly attempt: number;
  /** How the shard's run ended. */
  readonly status: RunStatus;
  readonly reason: string;
  readonly exitCode?: number;
  readonly durationSeconds: number;
  /** When the shard started (ISO 8601), for the timeline of shards. */
  readonly startedAt?: string;
  /** The shard's run metrics (RunMetrics: units in the names). */
  readonly metrics?: Readonly<Record<string, number | string | object>>;
  /** What Claude used in the shard, its items named by their place in the whole list. */
  readonly claude?: ClaudeUsage;
  /** The last lines of the shard's log, when it failed. */
  readonly logTail?: readonly string[];
  readonly results: readonly AgentResult[];
  /** File name, beside this one, of a git bundle with the shard's commits (from the plan's base). */
  readonly bundle?: string;
}

export type ItemStatus = 'success' | 'failed' | 'timeout';

/** Prodigy's status forms: "Success", "Timeout", {"Failed": "..."}. */
export function itemStatus(result: AgentResult): ItemStatus {
  const status = result.status;
  if (status === 'Success') return 'success';
  if (status === 'Timeout') return 'timeout';
  return 'failed';
}

/** A result for an item that never ran, in Prodigy's form (keys sorted, as Prodigy writes them). */
export function failedResult(position: number, message: string): AgentResult {
  return {
    commits: [],
    duration: { nanos: 0, secs: 0 },
    error: message,
    item_id: itemId(position),
    status: { Failed: message },
  };
}

/**
 * A shard's results as Prodigy wrote them (`${map.results}`, ids local to the shard) → ids in
 * the whole list; items Prodigy did not report become failures that say so.
 */
export function globalResults(
  layout: ShardLayout,
  shards: number,
  prodigy: readonly AgentResult[],
  missing: string,
): AgentResult[] {
  const byLocal = new Map<number, AgentResult>();
  for (const result of prodigy) {
    const match = /^item_(\d+)$/.exec(String(result.item_id));
    if (match) byLocal.set(Number(match[1]), result);
  }
  const merged: AgentResult[] = [];
  for (let local = 0; local < layout.size; local++) {
    const result = byLocal.get(local);
    const position = layout.first + local;
    merged.push(
      result
        ? { ...result, item_id: itemId(position) }
        : failedResult(position, `${shardLabel(layout.index, shards)}: ${missing}`),
    );
  }
  return merged;
}

export async function readShardResults(file: string): Promise<ShardResults> {
  let value: unknown;
  try {
    value = JSON.parse(
      await readUntrustedText(file, { what: 'the shard results', maxBytes: ReadLimits.data }),
    );
  } catch (error) {
    throw new Error(`${file} is not a shard results file: ${(error as Error).message}`);
  }
  const results = value as Partial<ShardResults>;
  if (results?.format !== RESULTS_FORMAT || !Array.isArray(results.results)) {
    throw new Error(`${file} is not a shard results file (no format ${RESULTS_FORMAT})`);
  }
  return results as ShardResults;
}

export interface MergedShard {
  readonly shard: number;
  readonly reported: boolean;
  readonly status: RunStatus | 'missing';
  readonly size: number;
  readonly attempt?: number;
  readonly results?: ShardResults;
  /** The results file it came from. */
  readonly file?: string;
}

export interface Merged {
  readonly plan: string;
  readonly workflow: string;
  readonly total: number;
  readonly successful: number;
  readonly failed: number;
  /** `${map.results}`: every item, in the whole list's order. */
  readonly results: readonly AgentResult[];
  readonly shards: readonly MergedShard[];
}

/**
 * Every shard's results → one list in item order. The newest attempt of a shard wins; a shard
 * that never reported counts all its items as failed. All results must come from one plan.
 */
export function mergeResults(
  found: readonly { file: string; results: ShardResults }[],
  workflow: string,
): Merged {
  const ours = found.filter(({ results }) => results.workflow === workflow);
  if (ours.length === 0) {
    throw new Error(
      found.length === 0
        ? 'no shard results were found'
        : `no shard results are for ${workflow} (found results for ${[...new Set(found.map((f) => f.results.workflow))].join(', ')})`,
    );
  }
  const plan = newestPlan(ours);
  const planned = ours.filter(({ results }) => results.plan === plan);
  const { total, shards } = planned[0]!.results;
  const layout = layoutShards(total, { shards });
  const newest = newestPerShard(planned, total, shards);
  const results: AgentResult[] = [];
  const merged: MergedShard[] = [];
  for (const part of layout) {
    const entry = newest.get(part.index);
    if (entry) {
      results.push(...entry.results.results);
      merged.push({
        shard: part.index,
        reported: true,
        status: entry.results.status,
        size: part.size,
        attempt: entry.results.attempt,
        results: entry.results,
        file: entry.file,
      });
    } else {
      const why = `${shardLabel(part.index, shards)} never reported results (its job did not run, or failed before the end)`;
      for (let i = 0; i < part.size; i++) results.push(failedResult(part.first + i, why));
      merged.push({ shard: part.index, reported: false, status: 'missing', size: part.size });
    }
  }
  const successful = results.filter((r) => itemStatus(r) === 'success').length;
  return {
    plan,
    workflow,
    total: results.length,
    successful,
    failed: results.length - successful,
    results,
    shards: merged,
  };
}

/** A results file and what it holds. */
interface Found {
  readonly file: string;
  readonly results: ShardResults;
}

/** The plan whose results are merged: the one of the newest attempt. */
function newestPlan(ours: readonly Found[]): string {
  // A workflow run re-run as a whole plans again, in a later attempt: its results win over the
  // earlier attempt's. Two plans of the same attempt cannot be told apart.
  const attemptOf = (plan: string) =>
    Math.max(...ours.filter((f) => f.results.plan === plan).map((f) => f.results.attempt));
  const plans = [...new Set(ours.map(({ results }) => results.plan))].sort(
    (a, b) => attemptOf(b) - attemptOf(a),
  );
  if (plans.length > 1 && attemptOf(plans[0]!) === attemptOf(plans[1]!)) {
    throw new Error(
      `shard results of ${plans.length} different plans were found (${plans.join(', ')}); give the files of one plan in 'results'`,
    );
  }
  return plans[0]!;
}

/** One plan's results by shard, the newest attempt of each; all must share the plan's layout. */
function newestPerShard(
  planned: readonly Found[],
  total: number,
  shards: number,
): Map<number, Found> {
  const newest = new Map<number, Found>();
  for (const entry of planned) {
    const { shard, attempt } = entry.results;
    if (entry.results.total !== total || entry.results.shards !== shards) {
      throw new Error(
        `${entry.file} was planned as ${entry.results.shards} shards of ${entry.results.total} items, the others as ${shards} of ${total}`,
      );
    }
    const seen = newest.get(shard);
    if (!seen || attempt > seen.results.attempt) newest.set(shard, entry);
  }
  return newest;
}

/** `${map.results}` as Prodigy renders it: compact JSON, and '' for an empty list. */
export function mapResultsText(results: readonly AgentResult[]): string {
  return results.length === 0 ? '' : JSON.stringify(results.map(sortKeys));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
