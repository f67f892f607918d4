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
