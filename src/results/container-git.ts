/**
 * The container's own git folder, and bringing its commits back.
 *
 * The workload never sees the runner's `.git`. Before the run the action makes a git folder of
 * the run's own from the checkout's: HEAD, refs, index and shallow list copied, a configuration
 * written anew from a short list of harmless keys (no credentials such as actions/checkout's
 * `http.*.extraheader`, no hooks, no fsmonitor, no filters), no hooks folder, and the checkout's
 * objects shared read-only through `objects/info/alternates`. A container sees it at
 * `/workspace/.git`; whatever the workload writes there stays in the run's folder.
 *
 * After the run no git command runs in that folder: it is read as plain files (HEAD and refs as
 * text, objects as regular files with git's own names, never through a link), the objects are
 * copied into a fresh repository the action made, and only the run's own branches and the
 * checked-out branch are fetched from there, checked object by object (transfer.fsckObjects)
 * and never forced. Everything else the workload did to its git folder is dropped, and what it
 * did to configuration or hooks is reported.
 */
import { chown, copyFile, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isSafeBranchName, runGitIn, SESSION_BRANCH, snapshot } from './git.js';
import { copyObjects, readBranches, readHead } from './container-git-files.js';
import { readUntrustedTextIfAny } from './untrusted.js';

/** Where a container finds the checkout's objects (read-only). */
export const CONTAINER_GIT_OBJECTS = '/cook/git-objects';

/** The run's git folder, in the run's folder on the runner. */
export function runGitFolder(runDir: string): string {
  return path.join(runDir, 'git');
}

/**
 * Configuration keys the container's git gets from the checkout's: the repository's format and
 * what a workflow reads (remotes, upstreams, identity). Nothing that names a program to run or
 * carries a credential.
 */
const KEPT_KEYS = [
  /^core\.(repositoryformatversion|filemode|ignorecase|precomposeunicode|symlinks|logallrefupdates)$/,
  /^extensions\.objectformat$/,
  /^remote\.[^\n]+\.(url|fetch|tagopt)$/,
  /^branch\.[^\n]+\.(remote|merge)$/,
  /^user\.(name|email)$/,
];

function quoteValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** git's `--list --null` output (key, newline, value, NUL) → a configuration file of kept keys. */
export function cleanConfig(listing: string): string {
  const sections = new Map<string, string[]>();
  for (const entry of listing.split('\0')) {
    if (!entry) continue;
    const newline = entry.indexOf('\n');
    const key = newline < 0 ? entry : entry.slice(0, newline);
    const value = newline < 0 ? 'true' : entry.slice(newline + 1);
    if (!KEPT_KEYS.some((pattern) => pattern.test(key))) continue;
    const first = key.indexOf('.');
    const last = key.lastIndexOf('.');
    const section = key.slice(0, first);
    const sub = first === last ? undefined : key.slice(first + 1, last);
    const header =
      sub === undefined
        ? `[${section}]`
        : `[${section} "${sub.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"]`;
    const lines = sections.get(header) ?? [];
    lines.push(`\t${key.slice(last + 1)} = ${quoteValue(value)}`);
    sections.set(header, lines);
  }
  const core = sections.get('[core]') ?? [];
  sections.set('[core]', [
    ...core.filter((line) => !/^\t(bare|repositoryformatversion) =/.test(line)),
    '\tbare = false',
    ...(core.some((line) => line.startsWith('\trepositoryformatversion'))
      ? core.filter((line) => line.startsWith('\trepositoryformatversion'))
      : ['\trepositoryformatversion = 0']),
  ]);
  return [...sections].map(([header, lines]) => [header, ...lines].join('\n')).join('\n') + '\n';
}

/** What the run's git folder was made from: the checkout's state before the run. */
export interface ContainerGit {
  /** The checkout's git folder on the runner. */
  readonly gitDir: string;
  /** The run's git folder, mounted at `<workspace>/.git` in the container. */
  readonly folder: string;
  /** The configuration written into the run's folder. */
  readonly config: string;
  /** The checkout's HEAD before the run: the branch it names, or undefined when detached. */
  readonly branch: string | undefined;
  readonly headCommit: string;
  /** The checkout's branches before the run. */
  readonly branches: ReadonlyMap<string, string>;
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Makes the run's git folder from the checkout at `workspace`, or undefined when it has no
 * `.git` folder. A `.git` file (a linked worktree, a submodule) cannot be covered by a folder
 * mount, so it is refused with what to do instead.
 */
export async function prepareContainerGit(
  workspace: string,
  runDir: string,
): Promise<ContainerGit | undefined> {
  const gitDir = path.join(workspace, '.git');
  const stats = await lstat(gitDir).catch(() => undefined);
  if (!stats) return undefined;
  if (!stats.isDirectory()) {
    throw new Error(
      `${gitDir} is not a folder (a linked worktree or a submodule checkout): a container gets a git folder of its own at /workspace/.git, which needs the workspace to be a regular clone`,
    );
  }
  const before = await snapshot(workspace);
  const headCommit = before?.head ?? '';
  const branches = before?.branches ?? new Map<string, string>();
  const branch = await runGitIn(workspace, ['symbolic-ref', '-q', '--short', 'HEAD']).catch(
    () => undefined,
  );
  const folder = runGitFolder(runDir);
  await rm(folder, { recursive: true, force: true });
  await mkdir(path.join(folder, 'objects', 'info'), { recursive: true });
  await mkdir(path.join(folder, 'objects', 'pack'), { recursive: true });
  await mkdir(path.join(folder, 'refs', 'heads'), { recursive: true });
  await mkdir(path.join(folder, 'refs', 'tags'), { recursive: true });
  await writeFile(path.join(folder, 'objects', 'info', 'alternates'), `${CONTAINER_GIT_OBJECTS}\n`);
  // Refs as one packed list (no traits line: git peels tags itself) at the checkout's values.
  const refs = await runGitIn(workspace, ['for-each-ref', '--format=%(objectname) %(refname)']);
  await writeFile(path.join(folder, 'packed-refs'), refs ? `${refs}\n` : '');
  const head = branch
    ? `ref: ${await runGitIn(workspace, ['symbolic-ref', '-q', 'HEAD'])}\n`
    : `${headCommit}\n`;
  await writeFile(path.join(folder, 'HEAD'), head);
  for (const name of ['index', 'shallow']) {
    const from = path.join(gitDir, name);
    if (await exists(from)) await copyFile(from, path.join(folder, name));
  }
  const raw = await runGitIn(undefined, [
    'config',
    '--file',
    path.join(gitDir, 'config'),
    '--list',
    '--null',
  ]).catch(() => '');
  const config = cleanConfig(raw);
  await writeFile(path.join(folder, 'config'), config);
  await ownLike(folder, stats.uid, stats.gid);
  return { gitDir, folder, config, branch, headCommit, branches };
}

/**
 * The run's folder belongs to whoever owns the checkout's `.git`: the workload runs as that user
 * (Prodigy does by default) and must write there as it would have in `.git`. Only an action
 * running as root can give it away, and only then is there someone else to give it to.
 */
async function ownLike(folder: string, uid: number, gid: number): Promise<void> {
  if (process.getuid?.() !== 0 || (uid === 0 && gid === 0)) return;
  const walk = async (dir: string): Promise<void> => {
    await chown(dir, uid, gid);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else await chown(full, uid, gid);
    }
  };
  await walk(folder);
}

/** The branches Prodigy makes for each MapReduce agent and its merge (0.4.4). */
const PRODIGY_WORK_BRANCH = /^(prodigy-mapreduce-agent-|agent-mapreduce-|merge-prodigy-)/;

export interface BringBackOptions {
  readonly workspace: string;
  readonly runDir: string;
  /** The branch the run makes when HEAD was detached (workflow/prodigy.ts). */
  readonly ownBranch: string;
  readonly limit: { readonly bytes: number; readonly text: string };
}

/**
 * Brings the run's commits from its git folder into the checkout; returns what the user should
 * hear of (branches left out, changes dropped). Throws only when the checkout itself fails.
 */
export async function bringBackCommits(
  prepared: ContainerGit,
  options: BringBackOptions,
): Promise<string[]> {
  const notes: string[] = [];
  const { folder } = prepared;
  const { workspace } = options;
  await reportPlantedFiles(prepared, notes);
  const after = await readBranches(folder, notes);
  const head = await readHead(folder);
  const wanted = wantedBranches(prepared, after, options.ownBranch, notes);
  if (!head) {
    notes.push(
      "the container left HEAD at something other than a branch or a commit: the checkout's HEAD stays",
    );
  }
  const detachedTip =
    head && 'commit' in head && prepared.branch === undefined && head.commit !== prepared.headCommit
      ? head.commit
      : undefined;
  if (wanted.length === 0 && detachedTip === undefined) return notes;

  const quarantine = await makeQuarantine(prepared, options);
  const targets: [string, string][] = wanted.map((name) => [name, after.get(name)!]);
  if (detachedTip) targets.push(['', detachedTip]);
  const fetched = await fetchChecked(workspace, quarantine, targets, notes);

  let moved = false;
  if (detachedTip && fetched.includes('')) {
    moved = await followDetachedHead(workspace, prepared.headCommit, detachedTip, notes);
  }
  if (
    prepared.branch === undefined &&
    head &&
    'branch' in head &&
    head.branch === options.ownBranch &&
    fetched.includes(options.ownBranch)
  ) {
    await runGitIn(workspace, ['symbolic-ref', 'HEAD', `refs/heads/${options.ownBranch}`]);
    moved = true;
  }
  if (prepared.branch !== undefined && fetched.includes(prepared.branch)) moved = true;
  // The working tree is the container's already; the index follows the new HEAD.
  if (moved) await runGitIn(workspace, ['reset', '--quiet']);
  await rm(quarantine, { recursive: true, force: true });
  return notes;
}

/**
 * The container's branches to bring back: the checked-out one and the run's own, when they moved.
 * Every other branch that moved stays as it was, and is said (unless it is Prodigy's own).
 */
function wantedBranches(
  prepared: ContainerGit,
  after: ReadonlyMap<string, string>,
  ownBranch: string,
  notes: string[],
): string[] {
  const own = (name: string) =>
    name === ownBranch || (SESSION_BRANCH.test(name) && !prepared.branches.has(name));
  const wanted: string[] = [];
  for (const [name, tip] of after) {
    if (prepared.branches.get(name) === tip) continue;
    if (!isSafeBranchName(name)) {
      notes.push(`the container made a branch whose name is refused: ${JSON.stringify(name)}`);
    } else if (name === prepared.branch || own(name)) {
      wanted.push(name);
    } else if (PRODIGY_WORK_BRANCH.test(name) && !prepared.branches.has(name)) {
      // A MapReduce agent's branch, already merged into the session: Prodigy's, not a result.
    } else {
      notes.push(
        `the container moved branch ${name}, which is neither the run's own nor the checked-out one: left as it was`,
      );
    }
  }
  return wanted;
}

/**
 * A fresh repository the action made, holding the container's objects beside the checkout's
 * (as alternates): the only place the workspace fetches from.
 */
async function makeQuarantine(prepared: ContainerGit, options: BringBackOptions): Promise<string> {
  const quarantine = path.join(options.runDir, 'git-import');
  await rm(quarantine, { recursive: true, force: true });
  await runGitIn(undefined, ['init', '--quiet', '--bare', quarantine]);
  await writeFile(
    path.join(quarantine, 'objects', 'info', 'alternates'),
    `${path.join(prepared.gitDir, 'objects')}\n`,
  );
  const shallow = path.join(prepared.gitDir, 'shallow');
  if (await exists(shallow)) await copyFile(shallow, path.join(quarantine, 'shallow'));
  await copyObjects(prepared.folder, quarantine, options.limit);
  return quarantine;
}

const FETCH = [
  '-c',
  'transfer.fsckObjects=true',
  'fetch',
  '--quiet',
  '--no-tags',
  '--no-write-fetch-head',
  '--update-head-ok',
];

/** Where a target lands in the checkout: its branch, or a ref of the action's own for HEAD. */
function destinationOf(name: string): string {
  return name ? `refs/heads/${name}` : `refs/cook-import/head`;
}

/**
 * Each target (a branch, or '' for the detached HEAD, at its tip) fetched from the quarantine
 * into the checkout, checked object by object and never forced; returns the names fetched.
 * All in one fetch when they all pass; when one does not, each alone, to say which.
 */
async function fetchChecked(
  workspace: string,
  quarantine: string,
  targets: readonly (readonly [string, string])[],
  notes: string[],
): Promise<string[]> {
  const refs = targets.map((_, index) => `refs/import/${index}`);
  try {
    const updates = targets.map(([, tip], index) => `update ${refs[index]} ${tip}`);
    await runGitIn(quarantine, ['update-ref', '--stdin'], `${updates.join('\n')}\n`);
    const specs = targets.map(([name], index) => `${refs[index]}:${destinationOf(name)}`);
    await runGitIn(workspace, [...FETCH, quarantine, ...specs]);
    return targets.map(([name]) => name);
  } catch {
    // Said below, target by target.
  }
  const fetched: string[] = [];
  for (const [index, [name, tip]] of targets.entries()) {
    try {
      await runGitIn(quarantine, ['update-ref', refs[index]!, tip]);
      await runGitIn(workspace, [...FETCH, quarantine, `${refs[index]}:${destinationOf(name)}`]);
      fetched.push(name);
    } catch (error) {
      const detail = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
      notes.push(
        `${name ? `branch ${name}` : 'the detached HEAD'} was not brought back from the container (${tip.slice(0, 12)}): ${detail.split('\n').slice(-1)[0] ?? ''}`,
      );
    }
  }
  return fetched;
}

/**
 * The checkout's detached HEAD moved to the container's, fetched, when it follows the checkout's;
 * returns whether it moved. The fetched ref is removed either way.
 */
async function followDetachedHead(
  workspace: string,
  headCommit: string,
  detachedTip: string,
  notes: string[],
): Promise<boolean> {
  const ahead = await runGitIn(workspace, [
    'merge-base',
    '--is-ancestor',
    headCommit,
    detachedTip,
  ]).then(
    () => true,
    () => false,
  );
  if (ahead) {
    await runGitIn(workspace, ['update-ref', '--no-deref', 'HEAD', detachedTip]);
  } else {
    notes.push(
      `the container left HEAD at ${detachedTip.slice(0, 12)}, which does not follow the checkout's HEAD: left as it was`,
    );
  }
  await runGitIn(workspace, ['update-ref', '-d', 'refs/cook-import/head']).catch(() => undefined);
  return ahead;
}

/** What the workload changed in its git folder's configuration or hooks: dropped, and said so. */
async function reportPlantedFiles(prepared: ContainerGit, notes: string[]): Promise<void> {
  const { folder } = prepared;
  const config = await readUntrustedTextIfAny(path.join(folder, 'config'), {
    what: "the container's git configuration",
    maxBytes: 1024 * 1024,
    root: folder,
  }).catch(() => '(unreadable)');
  if (config !== prepared.config) {
    notes.push(
      "the workload changed the git configuration of its container; the change stays there (the checkout's configuration is untouched)",
    );
  }
  const hooks = await readdir(path.join(folder, 'hooks')).catch(() => []);
  if (hooks.length > 0) {
    notes.push(
      `the workload wrote git hooks in its container (${hooks.slice(0, 5).join(', ')}); none reaches the checkout`,
    );
  }
}
