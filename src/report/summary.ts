/** RunOutcome → the job summary's Markdown. Pure. */
import type { RunOutcome } from './outcome.js';

const ICONS: Record<RunOutcome['status'], string> = {
  succeeded: '✅',
  failed: '❌',
  'timed-out': '⏱️',
  cancelled: '🚫',
};

/** Escapes text for a Markdown table cell or paragraph, HTML included (DESIGN rule 6). */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/\r?\n/g, ' ');
}

export function summaryMarkdown(outcome: RunOutcome, title: string): string {
  const rows: [string, string][] = [
    ['Status', `${ICONS[outcome.status]} ${outcome.status}`],
    ['Runtime', outcome.runtime],
    ...(outcome.image
      ? ([['Image', `\`${escapeMarkdown(outcome.image)}\``]] as [string, string][])
      : []),
    ['Duration', `${outcome.durationSeconds.toFixed(1)} s`],
    ['Exit code', outcome.exitCode === undefined ? '—' : String(outcome.exitCode)],
  ];
  if (outcome.git) {
    rows.push(['Commits', `${outcome.git.commits} on \`${escapeMarkdown(outcome.git.branch)}\``]);
  }
  const lines = [
    `### ${escapeMarkdown(title)}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ];
  if (outcome.status !== 'succeeded' || outcome.dryRun) {
    lines.push(`${outcome.dryRun ? 'Dry run' : 'Why'}: ${escapeMarkdown(outcome.reason)}`, '');
  }
  return lines.join('\n');
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

export interface ReduceFacts {
  readonly outcome: RunOutcome;
  readonly merged: {
    readonly workflow: string;
    readonly total: number;
    readonly successful: number;
    readonly failed: number;
    readonly results: readonly Readonly<Record<string, unknown>>[];
    readonly shards: readonly {
      readonly shard: number;
      readonly status: string;
      readonly size: number;
      readonly reported: boolean;
    }[];
  };
  readonly conflicts: readonly { readonly shard: number; readonly files: readonly string[] }[];
}

/** Failed items shown before the rest is folded away. */
const FAILED_ROWS_SHOWN = 50;

export function reduceSummary(reduce: ReduceFacts): string {
  const { merged, outcome } = reduce;
  const lines = [
    summaryMarkdown(outcome, `cook-action reduce: ${merged.workflow}`),
    `**Items:** ${merged.successful} successful, ${merged.failed} failed (total ${merged.total}).`,
    '',
    '| Shard | Status | Items |',
    '|---|---|---|',
    ...merged.shards.map(
      (s) => `| ${s.shard + 1} | ${s.reported ? s.status : 'never reported'} | ${s.size} |`,
    ),
    '',
  ];
  for (const conflict of reduce.conflicts) {
    lines.push(
      `Shard ${conflict.shard + 1}'s commits conflict with earlier shards${conflict.files.length ? ` in ${conflict.files.map((f) => `\`${escapeMarkdown(f)}\``).join(', ')}` : ''}; they were not merged.`,
      '',
    );
  }
  const failed = merged.results.filter((r) => r.status !== 'Success');
  if (failed.length > 0) {
    const rows = failed.map(
      (r) =>
        `| ${escapeMarkdown(String(r.item_id))} | ${escapeMarkdown(String(r.error ?? JSON.stringify(r.status)).slice(0, 300))} |`,
    );
    const table = (part: string[]) => ['| Item | Error |', '|---|---|', ...part];
    lines.push(...table(rows.slice(0, FAILED_ROWS_SHOWN)), '');
    if (rows.length > FAILED_ROWS_SHOWN) {
      lines.push(
        `<details><summary>${rows.length - FAILED_ROWS_SHOWN} more failed item(s)</summary>`,
        '',
        ...table(rows.slice(FAILED_ROWS_SHOWN)),
        '',
        '</details>',
        '',
      );
    }
  }
  return lines.join('\n');
}
