/** What a job summary is built of: escaped text, cells, tables, log tails, the fit in 1 MiB. */
import { formatBytes } from '../config/parse.js';
import type { ClaudeFigures, ClaudeUsage } from '../results/claude-records.js';
import type { RunOutcome } from '../engine/outcome.js';
import { PHASES, type RunMetrics } from './outputs.js';

export const ICONS: Record<RunOutcome['status'] | 'missing', string> = {
  succeeded: '✅',
  failed: '❌',
  'timed-out': '⏱️',
  cancelled: '🚫',
  missing: '❔',
};

/** GitHub refuses a step summary over 1 MiB; this leaves room for the artifact's line. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024 - 16 * 1024;
/** Lines of a failure's log shown, and characters of each. */
export const TAIL_LINES = 20;
const TAIL_LINE_CHARS = 400;

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
export function usageCells(m: RunMetrics | undefined): string {
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

export function resourcesTable(rows: readonly ResourceRow[]): string[] {
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

export function phasesTable(metrics: RunMetrics): string[] {
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
export function claudeTable(usage: ClaudeUsage | undefined): string[] {
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

export function headline(title: string, outcome: RunOutcome): string[] {
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

export function branchText(git: { branch: string; refusedBranch?: string }): string {
  return git.refusedBranch
    ? `a branch whose name the action does not pass on (<code>${escapeHtml(JSON.stringify(git.refusedBranch))}</code>): no \`branch\` output`
    : `<code>${escapeHtml(git.branch)}</code>`;
}

export function tailBlock(title: string, lines: readonly string[], shown = TAIL_LINES): string[] {
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

const bytes = (lines: readonly string[]) => Buffer.byteLength(lines.join('\n'), 'utf8');

/**
 * Puts the parts together under SUMMARY_LIMIT_BYTES: the head always; then as many folded item
 * rows as fit; then the failures' logs, shortened if need be. What was left out is said.
 */
export function fit(
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
