/**
 * Facts about a run → the job summary's Markdown. Pure.
 *
 * The summary is what a person looks at first: the verdict and what ran at the top, then what
 * it cost, then (for MapReduce) the shards over time and every item, then what failed with the
 * last lines of its log. Text from the workload is HTML-escaped (ARCHITECTURE.md, rule 6), and the
 * whole stays under GitHub's 1 MiB: what does not fit is cut, the summary says so, and the full
 * text goes to the artifact.
 */
import type { ClaudeFigures } from '../results/claude-records.js';
import type { RunOutcome } from '../engine/outcome.js';
import type { RunMetrics } from './outputs.js';
import {
  type ArtifactPointer,
  branchText,
  claudeTable,
  escapeHtml,
  escapeMarkdown,
  fit,
  formatCost,
  formatSeconds,
  headline,
  ICONS,
  phasesTable,
  resourcesTable,
  type SummaryParts,
  tailBlock,
  usageCells,
} from './summary-blocks.js';

/** Item rows shown before the rest is folded away. */
export const ITEM_ROWS_SHOWN = 50;
const ERROR_CHARS = 300;

export interface RunFacts {
  readonly title: string;
  readonly outcome: RunOutcome;
  readonly metrics: RunMetrics;
  readonly artifact?: ArtifactPointer;
}

/** One run (a container, a Job or a process). */
export function runSummary(facts: RunFacts): SummaryParts {
  const { outcome } = facts;
  const lines = headline(facts.title, outcome);
  if (outcome.status !== 'succeeded' || outcome.dryRun) {
    lines.push(`${outcome.dryRun ? 'Dry run' : 'Why'}: ${escapeMarkdown(outcome.reason)}`, '');
  }
  if (outcome.git) {
    lines.push(`**Commits:** ${outcome.git.commits} on ${branchText(outcome.git)}`, '');
  }
  lines.push(...claudeTable(outcome.claude));
  lines.push(...resourcesTable([{ label: 'workload', metrics: facts.metrics }]));
  lines.push(...phasesTable(facts.metrics));
  if (outcome.status !== 'succeeded' && outcome.logTail) {
    lines.push(...tailBlock('The last lines of the log', outcome.logTail));
  }
  return fit(lines, [], facts.artifact);
}

/** One shard as the summary shows it. */
export interface ShardFacts {
  readonly shard: number;
  readonly shards: number;
  readonly status: RunOutcome['status'] | 'missing';
  readonly reason?: string;
  readonly size: number;
  readonly first: number;
  /** When it started (ms since the epoch) and how long it ran, when it reported. */
  readonly startedAt?: number;
  readonly durationSeconds?: number;
  readonly metrics?: RunMetrics;
  readonly logTail?: readonly string[];
  readonly attempt?: number;
}

export interface ItemFacts {
  readonly id: string;
  readonly shard: number;
  readonly status: 'success' | 'failed' | 'timeout';
  readonly durationSeconds?: number;
  readonly error?: string;
  /** What Claude used on the item. */
  readonly claude?: ClaudeFigures;
}

export interface MapReduceFacts {
  readonly title: string;
  /** The whole: the reduce's outcome (or the cancellation), duration from the first start. */
  readonly outcome: RunOutcome;
  readonly workflow: string;
  readonly shards: readonly ShardFacts[];
  readonly items: readonly ItemFacts[];
  readonly conflicts: readonly { readonly shard: number; readonly files: readonly string[] }[];
  /** The reduce steps' own run, when there were any. */
  readonly reduce?: { readonly outcome: RunOutcome; readonly metrics: RunMetrics };
  readonly artifact?: ArtifactPointer;
}

function shardName(shard: number, shards: number): string {
  return `shard ${shard + 1}/${shards}`;
}

/** Mermaid gantt of the shards (and the reduce) over time, from the first start. */
export function shardsGantt(facts: MapReduceFacts): string[] {
  const timed = facts.shards.filter(
    (s) => s.startedAt !== undefined && s.durationSeconds !== undefined,
  );
  if (timed.length === 0) return [];
  const reduce = facts.reduce?.outcome;
  const origin = Math.min(...timed.map((s) => s.startedAt!), ...(reduce ? [reduce.startedAt] : []));
  const span = (start: number, seconds: number) =>
    `${Math.max(0, Math.round(start - origin))}, ${Math.max(0, Math.round(start - origin + seconds * 1000))}`;
  const tag = (status: ShardFacts['status']) =>
    status === 'succeeded'
      ? 'done, '
      : status === 'failed' || status === 'timed-out'
        ? 'crit, '
        : '';
  const lines = [
    '```mermaid',
    'gantt',
    '  dateFormat x',
    // Minutes and seconds from the first start; a run of hours still reads, by the hour marks.
    `  axisFormat ${Math.max(...timed.map((s) => s.startedAt! - origin + s.durationSeconds! * 1000)) > 3_600_000 ? '%H:%M' : '%M:%S'}`,
    '  section Shards',
    ...timed.map(
      (s) =>
        `  ${shardName(s.shard, s.shards)} · ${s.size} items :${tag(s.status)}s${s.shard + 1}, ${span(s.startedAt!, s.durationSeconds!)}`,
    ),
  ];
  if (reduce) {
    lines.push(
      '  section Reduce',
      `  reduce :${tag(reduce.status)}r, ${span(reduce.startedAt, reduce.durationSeconds)}`,
    );
  }
  lines.push('```', '');
  return lines;
}

function itemRow(item: ItemFacts, shards: number, withCost: boolean): string {
  const status =
    item.status === 'success'
      ? '✅ success'
      : item.status === 'timeout'
        ? '⏱️ timeout'
        : '❌ failed';
  const error = item.error
    ? escapeMarkdown(
        item.error.length > ERROR_CHARS ? `${item.error.slice(0, ERROR_CHARS)} …` : item.error,
      )
    : '';
  const cost = withCost ? ` ${formatCost(item.claude?.costUsd)} |` : '';
  return `| ${escapeMarkdown(item.id)} | ${item.shard + 1}/${shards} | ${status} | ${formatSeconds(item.durationSeconds)} |${cost} ${error} |`;
}

/** A MapReduce run: plan → shards → reduce, in one step (max-parallel) or across jobs. */
export function mapReduceSummary(facts: MapReduceFacts): SummaryParts {
  const { outcome } = facts;
  const failedItems = facts.items.filter((i) => i.status !== 'success').length;
  const lines = headline(facts.title, outcome);
  if (outcome.status !== 'succeeded') lines.push(`Why: ${escapeMarkdown(outcome.reason)}`, '');
  lines.push(
    `**Items:** ${facts.items.length - failedItems} successful, ${failedItems} failed (total ${facts.items.length}), in ${facts.shards.length} shard(s).`,
    '',
  );
  if (outcome.git) {
    lines.push(`**Commits:** ${outcome.git.commits} on ${branchText(outcome.git)}`, '');
  }
  for (const conflict of facts.conflicts) {
    lines.push(
      `⚠️ ${shardName(conflict.shard, facts.shards.length)}'s commits conflict with earlier shards${conflict.files.length ? ` in ${conflict.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}` : ''}; they were not merged.`,
      '',
    );
  }
  lines.push(...shardsGantt(facts));
  lines.push(...claudeTable(outcome.claude));
  lines.push(...shardsTable(facts));

  const { header, rows } = itemRows(facts);
  if (rows.length > 0) lines.push(...header, ...rows.slice(0, ITEM_ROWS_SHOWN), '');

  const failures = failureTails(facts);

  // What may shrink to fit: the folded item rows, then the failures' logs.
  const folded = rows.slice(ITEM_ROWS_SHOWN);
  return fit(
    lines,
    failures,
    facts.artifact,
    folded.length > 0 ? { header, rows: folded } : undefined,
  );
}

/** The table of shards, one row each, and the reduce's row last. */
function shardsTable(facts: MapReduceFacts): string[] {
  const shards = facts.shards.length;
  const shardRows = facts.shards.map(
    (s) =>
      `| ${s.shard + 1}/${shards} | ${ICONS[s.status]} ${s.status === 'missing' ? 'never reported' : s.status} | ${s.size} | ${formatSeconds(s.durationSeconds)} | ${usageCells(s.metrics)} |`,
  );
  if (facts.reduce) {
    const { outcome: reduced, metrics: m } = facts.reduce;
    shardRows.push(
      `| reduce | ${ICONS[reduced.status]} ${reduced.status} | — | ${formatSeconds(reduced.durationSeconds)} | ${usageCells(m)} |`,
    );
  }
  return [
    '| Shard | Status | Items | Duration | CPU | Peak memory | Network in / out | Disk read / write |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...shardRows,
    '',
  ];
}

/** Every item's row, failed items first, and the table's header (with a cost column when known). */
function itemRows(facts: MapReduceFacts): { header: string[]; rows: string[] } {
  const shards = facts.shards.length;
  // Failed items first, so the first rows are the ones to look at.
  const ordered = [
    ...facts.items.filter((i) => i.status !== 'success'),
    ...facts.items.filter((i) => i.status === 'success'),
  ];
  const withCost = facts.items.some((i) => i.claude !== undefined);
  const rows = ordered.map((item) => itemRow(item, shards, withCost));
  const header = withCost
    ? ['| Item | Shard | Status | Duration | Claude cost | Error |', '|---|---|---|--:|--:|---|']
    : ['| Item | Shard | Status | Duration | Error |', '|---|---|---|--:|---|'];
  return { header, rows };
}

/** What failed (each shard, then the reduce steps), with the last lines of its log. */
function failureTails(facts: MapReduceFacts): string[] {
  const shards = facts.shards.length;
  const failures: string[] = [];
  for (const s of facts.shards) {
    if (s.status === 'succeeded' || !s.logTail || s.logTail.length === 0) continue;
    failures.push(
      ...tailBlock(
        `${shardName(s.shard, shards)} ${s.status === 'missing' ? 'never reported' : s.status}${s.reason ? `: ${s.reason}` : ''}. The last lines of its log:`,
        s.logTail,
      ),
    );
  }
  const reduceOutcome = facts.reduce?.outcome;
  if (reduceOutcome && reduceOutcome.status !== 'succeeded' && reduceOutcome.logTail) {
    failures.push(
      ...tailBlock(
        `The reduce steps ${reduceOutcome.status}: ${reduceOutcome.reason}. The last lines of their log:`,
        reduceOutcome.logTail,
      ),
    );
  }
  return failures;
}

/** What a plan summary needs (kept structural, so report/ stays free of mapreduce/). */
export interface PlanFacts {
  readonly workflow: string;
  readonly itemCount: number;
  readonly shards: readonly {
    readonly index: number;
    readonly first: number;
    readonly size: number;
  }[];
  readonly setupBundle: boolean;
}

export function planSummary(plan: PlanFacts): string {
  const lines = [
    `### cook-action plan: ${escapeMarkdown(plan.workflow)}`,
    '',
    `${plan.itemCount} work item(s) in ${plan.shards.length} shard(s)${plan.setupBundle ? '; setup made commits, which every shard starts from' : ''}.`,
    '',
    '| Shard | Items | Ids |',
    '|---|---|---|',
    ...plan.shards.map(
      (s) =>
        `| ${s.index + 1} | ${s.size} | ${s.size === 0 ? '—' : `item_${s.first} … item_${s.first + s.size - 1}`} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** The summary's short form, for the pull-request comment: the head, without tables of items. */
export function shortSummary(full: string): string {
  const lines = full.split('\n');
  const end = lines.findIndex(
    (line, index) => index > 0 && (line.startsWith('```mermaid') || line.startsWith('| Item |')),
  );
  const head = (end < 0 ? lines : lines.slice(0, end)).join('\n').trim();
  return head;
}
