/**
 * Facts about a run → the job summary's Markdown. Pure.
 *
 * The summary is what a person looks at first: the verdict and what ran at the top, then what
 * it cost, then (for MapReduce) the shards over time and every item, then what failed with the
 * last lines of its log. Text from the workload is HTML-escaped (ARCHITECTURE.md, rule 6), and the
 * whole stays under GitHub's 1 MiB: what does not fit is cut, the summary says so, and the full
 * text goes to the artifact.
 */
import { formatBytes } from '../config/parse.js';
import type { ClaudeFigures, ClaudeUsage } from '../results/claude-records.js';
import type { RunOutcome } from '../engine/outcome.js';
import { PHASES, type RunMetrics } from './outputs.js';

const ICONS: Record<RunOutcome['status'] | 'missing', string> = {
  succeeded: '✅',
  failed: '❌',
  'timed-out': '⏱️',
  cancelled: '🚫',
  missing: '❔',
};

/** GitHub refuses a step summary over 1 MiB; this leaves room for the artifact's line. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024 - 16 * 1024;
/** Item rows shown before the rest is folded away. */
export const ITEM_ROWS_SHOWN = 50;
/** Lines of a failure's log shown, and characters of each. */
export const TAIL_LINES = 20;
const TAIL_LINE_CHARS = 400;
const ERROR_CHARS = 300;

/** Escapes text for a Markdown table cell or paragraph, HTML included (ARCHITECTURE.md, rule 6). */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text)
    .replace(/\|/g, '&#124;')
    .replace(/[[\]`*~\\]/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/\r?\n/g, ' ');
}

/**
 * Escapes text for inside a <pre> block. GitHub turns `@user`, `@org/team`, `#12`, `GH-12` and
 * `owner/repo#12` into mentions and links even there, and a mention in a comment notifies: a
 * word joiner after `@` and `#` keeps the text as it reads and out of reach of those rules.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([@#])(?=[\p{L}\p{N}_])/gu, '$1\u2060')
    .replace(/\b(GH-)(?=\d)/gi, '$1\u2060');
}

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A byte count for a table cell: a dash when it was not counted. */
function bytesCell(bytes: number | undefined): string {
  return bytes === undefined ? '—' : formatBytes(bytes);
}

/** Where the run's artifact is, once known. */
export interface ArtifactPointer {
  readonly name: string;
  /** Its page, when it was uploaded. */
  readonly url?: string;
  /** Its folder on disk, when there was no artifact service. */
  readonly dir?: string;
}

export interface SummaryParts {
  /** What goes into the job summary: under SUMMARY_LIMIT_BYTES. */
  readonly markdown: string;
  /** The same, uncut; differs from markdown only when something did not fit. */
  readonly full: string;
  readonly cut: boolean;
}

/** A row of the resources table: one container (or the run as a whole). */
interface ResourceRow {
  readonly label: string;
  readonly metrics: RunMetrics;
}

function metricNumber(m: RunMetrics | undefined, key: string): number | undefined {
  return m && typeof m[key] === 'number' ? (m[key] as number) : undefined;
}

/** The CPU, peak memory, network and disk cells of a row, in the tables' column order. */
function usageCells(m: RunMetrics | undefined): string {
  const pair = (a: string, b: string) =>
    metricNumber(m, a) === undefined && metricNumber(m, b) === undefined
      ? '—'
      : `${bytesCell(metricNumber(m, a))} / ${bytesCell(metricNumber(m, b))}`;
  return [
    formatSeconds(metricNumber(m, 'cpu_seconds')),
    bytesCell(metricNumber(m, 'memory_peak_bytes')),
    pair('network_rx_bytes', 'network_tx_bytes'),
    pair('block_read_bytes', 'block_write_bytes'),
  ].join(' | ');
}

function resourcesTable(rows: readonly ResourceRow[]): string[] {
  if (!rows.some((r) => metricNumber(r.metrics, 'cpu_seconds') !== undefined)) return [];
  return [
    '| | CPU | Peak memory | Network in / out | Disk read / write |',
    '|---|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${escapeMarkdown(r.label)} | ${usageCells(r.metrics)} |`),
    '',
  ];
}

const PHASE_NAMES: Record<(typeof PHASES)[number], string> = {
  prepare_seconds: 'Prepare',
  pull_seconds: 'Image pull',
  schedule_seconds: 'Scheduling',
  start_seconds: 'Start',
  run_seconds: 'Run',
  copy_back_seconds: 'Copy back',
  cleanup_seconds: 'Cleanup',
};

function phasesTable(metrics: RunMetrics): string[] {
  const present = PHASES.filter((p) => typeof metrics[p] === 'number');
  if (present.length === 0) return [];
  return [
    `| ${present.map((p) => PHASE_NAMES[p]).join(' | ')} |`,
    `|${present.map(() => '--:').join('|')}|`,
    `| ${present.map((p) => formatSeconds(metrics[p] as number)).join(' | ')} |`,
    '',
  ];
}

/** Dollars as Claude gives them: cents for a run, a finer figure below a cent. */
export function formatCost(usd: number | undefined): string {
  if (usd === undefined) return '—';
  if (usd === 0) return '$0';
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** What Claude used: the whole, then per model (when more than one), as Claude priced it. */
function claudeTable(usage: ClaudeUsage | undefined): string[] {
  if (!usage || usage.sessions === 0) return [];
  const row = (label: string, f: ClaudeFigures) =>
    `| ${label} | ${f.sessions} | ${f.turns} | ${formatCount(f.tokens.input)} | ${formatCount(f.tokens.output)} | ${formatCount(f.tokens.cacheRead)} | ${formatCount(f.tokens.cacheWrite)} | ${formatCost(f.costUsd)}${f.unpricedSessions > 0 ? ` (${f.unpricedSessions} unpriced)` : ''} |`;
  const models = Object.entries(usage.models);
  return [
    '| Claude | Sessions | Turns | Input tokens | Output tokens | Cache read | Cache write | Cost |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    row(models.length === 1 ? `<code>${escapeHtml(models[0]![0])}</code>` : 'all models', usage),
    ...(models.length > 1
      ? models.map(([model, f]) => row(`<code>${escapeHtml(model)}</code>`, f))
      : []),
    '',
    ...(usage.unpricedSessions > 0
      ? [
          `${usage.unpricedSessions} session(s) ended before Claude wrote what they cost: their tokens are counted, their cost is not.`,
          '',
        ]
      : []),
  ];
}

function headline(title: string, outcome: RunOutcome): string[] {
  const { status } = outcome;
  return [
    `### ${ICONS[status]} ${escapeMarkdown(title)}`,
    '',
    '| Status | Runtime | Image | Duration | Exit code |',
    '|---|---|---|--:|--:|',
    `| ${ICONS[status]} ${status} | ${outcome.runtime} | ${outcome.image ? `<code>${escapeHtml(outcome.image)}</code>` : '—'} | ${formatSeconds(outcome.durationSeconds)} | ${outcome.exitCode ?? '—'} |`,
    '',
  ];
}

/** Terminal colours and other escape sequences, which a web page would show as `[2m`. */
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f]/g;

function branchText(git: { branch: string; refusedBranch?: string }): string {
  return git.refusedBranch
    ? `a branch whose name the action does not pass on (<code>${escapeHtml(JSON.stringify(git.refusedBranch))}</code>): no \`branch\` output`
    : `<code>${escapeHtml(git.branch)}</code>`;
}

function tailBlock(title: string, lines: readonly string[], shown = TAIL_LINES): string[] {
  if (lines.length === 0) return [];
  const kept = lines.slice(-shown).map((raw) => {
    const line = raw.replace(ESCAPES, '');
    const text = line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)} …` : line;
    return escapeHtml(text);
  });
  return [`**${escapeMarkdown(title)}**`, '', `<pre>${kept.join('\n')}</pre>`, ''];
}

function artifactLines(artifact: ArtifactPointer | undefined, cut: boolean): string[] {
  const fuller = cut ? ' It holds this summary in full (`cook/summary.md`).' : '';
  if (!artifact) return cut ? ['The rest did not fit in a job summary.', ''] : [];
  if (artifact.url) {
    return [
      `📦 The log, metrics and records are in artifact [${escapeMarkdown(artifact.name)}](${artifact.url}).${fuller}`,
      '',
    ];
  }
  if (artifact.dir) {
    return [
      `📦 The log, metrics and records are in <code>${escapeHtml(artifact.dir)}</code> (no artifact service here).${fuller}`,
      '',
    ];
  }
  return [
    `📦 The log, metrics and records are in artifact ${escapeMarkdown(artifact.name)}.${fuller}`,
    '',
  ];
}

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
  lines.push(
    '| Shard | Status | Items | Duration | CPU | Peak memory | Network in / out | Disk read / write |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
    ...shardRows,
    '',
  );

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
  if (rows.length > 0) lines.push(...header, ...rows.slice(0, ITEM_ROWS_SHOWN), '');

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

  // What may shrink to fit: the folded item rows, then the failures' logs.
  const folded = rows.slice(ITEM_ROWS_SHOWN);
  return fit(
    lines,
    failures,
    facts.artifact,
    folded.length > 0 ? { header, rows: folded } : undefined,
  );
}

const bytes = (lines: readonly string[]) => Buffer.byteLength(lines.join('\n'), 'utf8');

/**
 * Puts the parts together under SUMMARY_LIMIT_BYTES: the head always; then as many folded item
 * rows as fit; then the failures' logs, shortened if need be. What was left out is said.
 */
function fit(
  head: readonly string[],
  failures: readonly string[],
  artifact: ArtifactPointer | undefined,
  more?: { header: readonly string[]; rows: readonly string[] },
): SummaryParts {
  const foldedBlock = (rows: readonly string[], total: number) =>
    rows.length === 0
      ? []
      : [
          `<details><summary>${total} more item(s)${rows.length < total ? ` (${rows.length} shown here; the artifact has them all)` : ''}</summary>`,
          '',
          ...more!.header,
          ...rows,
          '',
          '</details>',
          '',
        ];
  const total = more?.rows.length ?? 0;
  const fullLines = [...head, ...foldedBlock(more?.rows ?? [], total), ...failures];
  const full = [...fullLines, ...artifactLines(artifact, false)].join('\n');
  if (bytes(fullLines) + 2048 <= SUMMARY_LIMIT_BYTES) {
    return { markdown: full, full, cut: false };
  }

  // Too big: the head must fit on its own (it is bounded: 50 item rows, one row per shard).
  let budget = SUMMARY_LIMIT_BYTES - 4096 - bytes(head);
  let failuresKept = [...failures];
  if (bytes(failuresKept) > budget / 2) {
    failuresKept = ["**The failures' logs did not fit here: they are in the artifact.**", ''];
  }
  budget -= bytes(failuresKept);
  let kept = more?.rows ?? [];
  while (kept.length > 0 && bytes(foldedBlock(kept, total)) > budget) {
    kept = kept.slice(0, Math.floor(kept.length / 2));
  }
  let lines = [...head, ...foldedBlock(kept, total), ...failuresKept];
  if (bytes(lines) > SUMMARY_LIMIT_BYTES - 4096) {
    // A head too big on its own (thousands of shards): cut at a line, closing nothing open.
    const text = lines.join('\n');
    const cutAt = Buffer.from(text, 'utf8')
      .subarray(0, SUMMARY_LIMIT_BYTES - 8192)
      .toString('utf8');
    lines = [cutAt.slice(0, cutAt.lastIndexOf('\n')), ''];
  }
  lines.push(
    '> [!NOTE]',
    "> This summary was cut to stay under GitHub's 1 MiB limit for a job summary.",
    '',
    ...artifactLines(artifact, true),
  );
  return { markdown: lines.join('\n'), full, cut: true };
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
