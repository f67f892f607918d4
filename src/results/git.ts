/**
 * Where the run's commits ended up in the runner's checkout: merged into the checked-out branch,
 * or left on one of Prodigy's session branches when its merge did not happen.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Every git command the action runs on the runner runs with these: no hook and no fsmonitor
 * program, whatever a repository's configuration says. The workload's files are never what
 * git is driven by (SECURITY.md), and this holds even where a repository's configuration was
 * not the action's to check.
 */
export const HARDENED_GIT = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  // Nor does a fetch into the checkout start git's own upkeep after it (a process per fetch).
  '-c',
  'maintenance.auto=false',
];

/** Runs git on the runner, hardened; the trimmed standard output. */
export async function runGitIn(
  cwd: string | undefined,
  args: readonly string[],
  input?: string,
): Promise<string> {
  const child = run('git', [...HARDENED_GIT, ...(cwd === undefined ? [] : ['-C', cwd]), ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) child.child.stdin?.end(input);
  const { stdout } = await child;
  return stdout.trim();
}

/**
 * The only branch names the action passes on (the `branch` output, the summary): git allows far
 * more (`x$(id)`, backquotes, quotes), and an output is often pasted into a later step's script.
 * Path segments of letters, digits, `.`, `_` and `-`, none starting with `.` or `-`, and none
 * of git's own refusals (`..`, `.lock`).
 */
const SAFE_BRANCH =
  /^(?!.*\.\.)(?!.*\.lock(?:\/|$))[A-Za-z0-9_][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

export function isSafeBranchName(name: string): boolean {
  return name.length <= 200 && SAFE_BRANCH.test(name);
}

/** Prodigy 0.4.4 names a standard run's branch prodigy-workflow-<n>, a MapReduce one's prodigy-session-<uuid>. */
export const SESSION_BRANCH = /^prodigy-(session|workflow)-/;

export interface GitSnapshot {
  readonly head: string;
  readonly branches: ReadonlyMap<string, string>;
}

export interface GitResult {
  /** The branch holding the run's newest commits; always a name isSafeBranchName accepts. */
  readonly branch: string;
  /** A branch name the workload chose that the action would not pass on (shown escaped). */
  readonly refusedBranch?: string;
  /** Commits the run added to that branch. */
  readonly commits: number;
  /** Prodigy session branches this run left with commits not merged into the checkout. */
  readonly unmergedSessionBranches: readonly string[];
}

async function git(workspace: string, ...args: string[]): Promise<string> {
  return runGitIn(workspace, args);
}

/** The checkout's state, or undefined when git is missing or the folder is no repository. */
export async function snapshot(workspace: string): Promise<GitSnapshot | undefined> {
  try {
    const head = await git(workspace, 'rev-parse', 'HEAD');
    const listing = await git(
      workspace,
      'for-each-ref',
      '--format=%(refname:short) %(objectname)',
      'refs/heads',
    );
    const branches = new Map(
      listing
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ') as [string, string]),
    );
    return { head, branches };
  } catch {
    return undefined;
  }
}

export async function gitResult(
  workspace: string,
  before: GitSnapshot,
): Promise<GitResult | undefined> {
  const after = await snapshot(workspace);
  if (!after) return undefined;
  let branch = await git(workspace, 'rev-parse', '--abbrev-ref', 'HEAD').catch(() => 'HEAD');
  let commits = Number(await git(workspace, 'rev-list', '--count', `${before.head}..HEAD`));
  const unmerged: string[] = [];
  for (const [name, tip] of after.branches) {
    if (!SESSION_BRANCH.test(name) || before.branches.get(name) === tip) continue;
    const ahead = Number(await git(workspace, 'rev-list', '--count', `HEAD..${tip}`));
    if (ahead > 0) unmerged.push(name);
  }
  if (commits === 0 && unmerged.length > 0) {
    branch = unmerged[unmerged.length - 1]!;
    commits = Number(await git(workspace, 'rev-list', '--count', `${before.head}..${branch}`));
  }
  if (!isSafeBranchName(branch)) {
    return { branch: 'HEAD', commits, unmergedSessionBranches: unmerged, refusedBranch: branch };
  }
  return { branch, commits, unmergedSessionBranches: unmerged };
}

/** Writes the commits of `range` (e.g. `base..branch`) to a bundle file; false when there are none. */
export async function createBundle(
  workspace: string,
  file: string,
  base: string,
  tip: string,
): Promise<boolean> {
  const count = Number(await git(workspace, 'rev-list', '--count', `${base}..${tip}`));
  if (count === 0) return false;
  await git(workspace, 'bundle', 'create', '--quiet', file, `${base}..${tip}`);
  return true;
}

/** Fetches a bundle's tip into the checkout and returns its commit (nothing is merged yet). */
export async function fetchBundle(workspace: string, file: string): Promise<string> {
  const heads = await git(workspace, 'bundle', 'list-heads', file);
  const ref = heads.split('\n')[0]?.split(' ')[1];
  if (!ref) throw new Error(`the git bundle ${file} holds no commits`);
  await git(
    workspace,
    '-c',
    'transfer.fsckObjects=true',
    'fetch',
    '--quiet',
    '--no-tags',
    file,
    ref,
  );
  return git(workspace, 'rev-parse', 'FETCH_HEAD');
}

export async function headCommit(workspace: string): Promise<string> {
  return git(workspace, 'rev-parse', 'HEAD');
}

export { git as runGit };
