/**
 * The run's work on the runner itself, around the workload: the run's folder and the git
 * snapshot before it, a git-merge copy of the workflow, and after it the git files restored,
 * the commits brought back and what Claude used, held to the step's caps.
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import type { LogSink } from '../logs/log-sink.js';
import { inert } from '../logs/inert.js';
import type { ClaudeBudget, PassedLimit } from '../results/claude-budget.js';
import { type ClaudeUsage, NO_CLAUDE, readClaudeRecords } from '../results/claude-records.js';
import { bringBackCommits, type ContainerGit } from '../results/container-git.js';
import { type GitSnapshot, gitResult, snapshot } from '../results/git.js';
import type { GitGuard } from '../results/git-guard.js';
import { prodigyHomeOnHost } from '../runtime/spec.js';
import { withGitMerge } from '../workflow/derive.js';
import { runBranch } from '../workflow/prodigy.js';
import { Exchange } from './exchange.js';
import type { RunStatus } from './outcome.js';
import { heldToLimits } from './verdict.js';

/** What collecting needs of the run. */
export interface Collecting {
  readonly settings: Settings;
  readonly sink: LogSink;
  /** Claude's folder (CLAUDE_CONFIG_DIR) on the runner. */
  readonly claudeDir: string;
  /** The step's Claude budget, when it has caps, and this run's name in it. */
  readonly claude?: { readonly budget: ClaudeBudget; readonly key: string };
}

/** How the workload part went, as far as collecting is concerned. */
export interface Collectable {
  readonly status?: RunStatus;
  readonly reason: string;
  readonly guard?: GitGuard;
  readonly containerGit?: ContainerGit;
  /** What Claude had used when the run was last looked at. */
  readonly lastSeen?: ClaudeUsage;
  /** The cap that stopped the run: its usage was held to the caps already. */
  readonly stoppedBy?: PassedLimit;
}

/** The run's folder and Prodigy's records; the checkout's git state before a Prodigy run. */
export async function prepareHost(settings: Settings): Promise<GitSnapshot | undefined> {
  await mkdir(settings.runDir, { recursive: true });
  if (settings.workload.kind !== 'prodigy') return undefined;
  const home = prodigyHomeOnHost(settings);
  await mkdir(home, { recursive: true });
  // The workload may run as another user than the action; it must still write its records.
  await chmod(home, 0o777);
  return snapshot(settings.workspace);
}

/**
 * Once nothing of the workload runs: its git files are undone, then its commits come in; what
 * Claude used is read, and held to the step's caps.
 */
export async function collect(
  context: Collecting,
  ran: Collectable,
  gitBefore: GitSnapshot | undefined,
) {
  const { settings, sink } = context;
  let status = ran.status ?? 'failed';
  let reason = ran.reason;
  const restored = await restoreGit(settings, ran.guard, ran.containerGit);
  for (const note of restored.notes) sink.note(`Warning: ${note}`);
  if (restored.error) {
    sink.note(restored.error);
    if (status === 'succeeded') {
      status = 'failed';
      reason = restored.error;
    }
  }
  const git = gitBefore
    ? await gitResult(settings.workspace, gitBefore).catch(() => undefined)
    : undefined;
  let claude: ClaudeUsage | undefined;
  if (settings.workload.kind === 'prodigy') {
    const records = await readClaudeRecords(context.claudeDir).catch((error: unknown) => ({
      skipped: [(error as Error).message],
      usage: undefined,
    }));
    for (const why of records.skipped) {
      sink.note(`Warning: one of Claude's session logs was left out of its figures: ${inert(why)}`);
    }
    // A pod stopped at a cap may not hand its records back: what was seen of them then counts.
    claude = records.usage ?? ran.lastSeen ?? NO_CLAUDE;
    if (context.claude && !ran.stoppedBy) {
      context.claude.budget.record(context.claude.key, claude);
      ({ status, reason } = heldToLimits(context.claude.budget, status, reason));
    }
  }
  return { status, reason, git, claude, warnings: restored.notes };
}

async function restoreGit(
  settings: Settings,
  saved: GitGuard | undefined,
  prepared: ContainerGit | undefined,
): Promise<{ notes: string[]; error?: string }> {
  const notes: string[] = [];
  try {
    if (saved) notes.push(...(await saved.restore()));
    if (prepared) {
      notes.push(
        ...(await bringBackCommits(prepared, {
          workspace: settings.workspace,
          runDir: settings.runDir,
          ownBranch: runBranch(settings),
          limit: settings.transferLimit,
        })),
      );
    }
  } catch (error) {
    return {
      notes,
      error: `Bringing back the run's commits failed: ${(error as Error).message}`,
    };
  }
  return { notes };
}

/**
 * With git-merge, a workflow without a `merge:` of its own runs as a copy that has git's (a
 * derived workflow, as the shards' are); one with its own runs as it is.
 */
export async function mergingWithGit(
  settings: Settings,
  note: (m: string) => void,
): Promise<Settings> {
  const workload = settings.workload;
  if (workload.kind !== 'prodigy' || !workload.gitMerge || workload.derived) return settings;
  const text = await readFile(path.join(settings.workspace, workload.workflow), 'utf8');
  const derived = withGitMerge(text);
  if (derived === undefined) return settings;
  await mkdir(settings.runDir, { recursive: true });
  const exchange = await Exchange.fresh(settings, 'merge');
  await exchange.write('workflow.yml', derived);
  note(
    `git-merge: ${workload.workflow} has no merge block, so Prodigy's session is merged with git.`,
  );
  return exchange.running('workflow.yml');
}
