/**
 * The run's artifact: one per job, shard and attempt, holding what someone looking into the run
 * afterwards wants: the whole log, the metrics, the MapReduce results, the full summary when the
 * job summary could not hold it, Prodigy's records (without its worktrees, which are checkouts),
 * and the workspace files the `artifacts` input names.
 *
 * Nothing from outside the workspace goes in, however a pattern or a symlink is written: patterns
 * that climb out are refused before globbing, the crawl never follows a symlink out, and every
 * file found is checked again by its real path.
 *
 * Everything is first staged in `<runDir>/artifact/`:
 *
 *     cook/output.log      the whole log
 *     cook/metrics.json    the metrics
 *     cook/results.json    MapReduce results, when there are any
 *     cook/summary.md      the full summary, when it did not fit the job summary
 *     prodigy/…            Prodigy's records (events, state, dlq, logs…), no worktrees, no .git
 *     claude/projects/…    Claude's session transcripts (.jsonl), as Claude wrote them, masked
 *     workspace/…          the files the `artifacts` globs matched, by workspace-relative path
 *
 * Outside GitHub there is no artifact service: the staged folder stays, and a notice says where.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { lstat, mkdir, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type FileSystemAdapter, glob, isDynamicPattern } from 'tinyglobby';
import type { GitHubContext, Settings } from '../config/settings.js';
import type { ShardEntry } from '../config/shard.js';
import { FileTooLargeError, ReadLimits, readUntrusted } from '../results/untrusted.js';
import { prodigyHomeIn } from '../runtime/spec.js';
import { CLAUDE_FOLDER } from '../workflow/prodigy.js';
import { uploadArtifact } from './artifacts.js';
import { formatBytes } from '../config/parse.js';

/** What the run's artifact needs to know of the settings; a whole Settings will do. */
export interface RunArtifactSettings extends Pick<
  Settings,
  | 'workspace'
  | 'runDir'
  | 'logPath'
  | 'artifacts'
  | 'artifactName'
  | 'retentionDays'
  | 'transferLimit'
> {
  readonly shard?: Pick<ShardEntry, 'name' | 'shard'>;
  readonly github: Pick<GitHubContext, 'artifactService' | 'job' | 'runAttempt'>;
}

export interface RunArtifactExtras {
  /** Written as cook/metrics.json. */
  readonly metrics: object;
  /** A MapReduce results file, copied as cook/results.json. */
  readonly resultsFile?: string;
  /** The full summary Markdown (the text), when the job summary could not hold it. */
  readonly summaryOverflow?: string;
  /** Runs inside this one, staged under `shards/<name>/`. */
  readonly parts?: readonly RunPart[];
  /** Masks secrets in a file's bytes, as the log is masked: everything staged goes through it. */
  readonly mask: (data: Buffer) => Buffer;
}

export interface RunArtifactAnnounce {
  readonly note: (message: string) => void;
  /** A notice annotation in GitHub; a plain line elsewhere. */
  readonly notice: (message: string) => void;
  readonly warning: (message: string) => void;
}

export interface PublishedRunArtifact {
  readonly name: string;
  /** The artifact's id; absent when nothing was uploaded (no artifact service). */
  readonly id?: number;
  /** The staging folder: the artifact's contents on disk. */
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
}

export interface RefusedPattern {
  readonly pattern: string;
  readonly why: string;
}

export interface ResolvedGlobs {
  /** Workspace-relative paths with forward slashes, de-duplicated and sorted. */
  readonly files: string[];
  /** Patterns refused, and matched files dropped, with the reason. */
  readonly refused: RefusedPattern[];
  /** Include patterns that matched no file. */
  readonly unmatched: string[];
}

/** Characters the artifact service refuses in file paths (and, with \ and /, in names). */
const FORBIDDEN_IN_PATH = /[":<>|*?\r\n]/g;
const MAX_NAME_LENGTH = 200;
const STAGING_FOLDER = 'artifact';

/**
 * The artifact's name: the `artifact-name` input when given; else one unique per job, shard and
 * attempt, `cook-<job>[-<shard>]-a<attempt>`, in characters the artifact service accepts.
 */
export function artifactName(
  settings: Pick<RunArtifactSettings, 'artifactName' | 'shard' | 'github'>,
): string {
  const given = settings.artifactName?.trim();
  if (given) return given;
  const job = nameSafe(settings.github.job ?? '') || 'run';
  const shard = settings.shard
    ? nameSafe(settings.shard.name) || `shard-${settings.shard.shard + 1}`
    : '';
  const rawAttempt = settings.github.runAttempt?.trim() ?? '';
  const attempt =
    /^\d+$/.test(rawAttempt) && Number(rawAttempt) > 0 ? String(Number(rawAttempt)) : '1';
  const suffix = `-a${attempt}`;
  const full = `cook-${job}${shard ? `-${shard}` : ''}${suffix}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  // Cut, and keep names that differ only past the cut apart with a hash of the whole.
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const head = full.slice(0, MAX_NAME_LENGTH - suffix.length - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}${suffix}`;
}

function nameSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
}

/** Inside root (or root itself), both absolute. */
function within(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

function hasGitSegment(relative: string): boolean {
  return relative.split(/[\\/]/).includes('.git');
}

/** Why a pattern is refused before any globbing, or undefined when it may be used. */
function patternProblem(pattern: string): string | undefined {
  if (pattern.includes('\0')) return 'it holds a NUL character';
  if (pattern.startsWith('/') || pattern.startsWith('\\')) {
    return 'an absolute path; patterns are relative to the workspace';
  }
  if (/^[A-Za-z]:/.test(pattern))
    return 'a Windows drive path; patterns are relative to the workspace';
  if (pattern.startsWith('~'))
    return 'a home-folder path (~); patterns are relative to the workspace';
  const unescaped = pattern.replace(/\\(.)/g, '$1');
  const climbs = [pattern, unescaped].some((text) =>
    text.split(/[/\\{},()|]/).some((segment) => segment === '..'),
  );
  if (climbs) return "it climbs with '..'; patterns stay inside the workspace";
  return undefined;
}

/** The leading segments of a pattern that hold no glob, unescaped. */
function staticSegments(pattern: string): string[] {
  const segments: string[] = [];
  for (const segment of pattern.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (isDynamicPattern(segment)) break;
    segments.push(segment.replace(/\\(.)/g, '$1'));
  }
  return segments;
}

/** Whether a pattern's fixed leading folders lead out of the workspace (or into .git). */
async function prefixProblem(
  workspace: string,
  realWorkspace: string,
  pattern: string,
): Promise<string | undefined> {
  const segments = staticSegments(pattern);
  if (segments.includes('.git')) return '.git is never uploaded';
  for (let count = 1; count <= segments.length; count++) {
    const shown = segments.slice(0, count).join('/');
    const absolute = path.join(workspace, ...segments.slice(0, count));
    const stats = await lstat(absolute).catch(() => undefined);
    if (!stats) return undefined;
    if (!stats.isSymbolicLink()) continue;
    const real = await realpath(absolute).catch(() => undefined);
    if (real === undefined) return undefined; // A broken link: nothing to match.
    if (!within(realWorkspace, real))
      return `${shown} is a symlink to ${real}, outside the workspace`;
    if (hasGitSegment(path.relative(realWorkspace, real))) {
      return `${shown} is a symlink into .git, which is never uploaded`;
    }
  }
  return undefined;
}

/**
 * File-system calls for the crawl that never follow a symlink out of the workspace: such a link
 * is resolved to itself and stat'ed as the link, so it is listed (and then dropped, by name) but
 * never entered.
 */
function guardedFs(realWorkspace: string, escaping: Set<string>): FileSystemAdapter {
  type Done<T> = (error: NodeJS.ErrnoException | null, value?: T) => void;
  const guardedRealpath = (target: string, done: Done<string>) => {
    fs.realpath(target, (error, resolved) => {
      if (error) return done(error);
      if (within(realWorkspace, resolved)) return done(null, resolved);
      escaping.add(target);
      done(null, target);
    });
  };
  const guardedStat = (target: string, done: Done<fs.Stats>) =>
    escaping.has(target) ? fs.lstat(target, done) : fs.stat(target, done);
  // The crawler calls these two with (path, callback) only; the casts fit them to fs's overloads.
  return {
    realpath: guardedRealpath as unknown as typeof fs.realpath,
    stat: guardedStat as unknown as typeof fs.stat,
  };
}

/**
 * The workspace files the `artifacts` input names. Lines are workspace-relative globs; `!` lines
 * exclude; blank lines and `#` comments are ignored; a pattern naming a folder takes its files,
 * at any depth; dotfiles match; .git never does. Patterns that would reach outside the workspace
 * are refused, and matched symlinks that lead outside are dropped, both with the reason.
 */
export async function resolveArtifactGlobs(
  workspace: string,
  patterns: readonly string[],
): Promise<ResolvedGlobs> {
  const root = path.resolve(workspace);
  const realWorkspace = await realpath(root);
  const refused: RefusedPattern[] = [];
  const includes: { line: string; pattern: string }[] = [];
  const excludes: string[] = [];
  for (const raw of patterns) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1).trim() : line).replace(/\/+$/, '');
    if (pattern === '') continue;
    const problem =
      patternProblem(pattern) ??
      (negated ? undefined : await prefixProblem(root, realWorkspace, pattern));
    if (problem !== undefined) {
      refused.push({ pattern: line, why: problem });
      continue;
    }
    if (negated) excludes.push(pattern);
    else includes.push({ line, pattern });
  }

  const escaping = new Set<string>();
  const ignore = [
    '**/.git',
    '**/.git/**',
    ...excludes.flatMap((pattern) => [pattern, `${pattern}/**`]),
  ];
  const files = new Set<string>();
  const unmatched: string[] = [];
  for (const { line, pattern } of includes) {
    const found = await glob([pattern, `${pattern}/**`], {
      cwd: root,
      dot: true,
      onlyFiles: true,
      expandDirectories: false,
      followSymbolicLinks: true,
      ignore,
      fs: guardedFs(realWorkspace, escaping),
    });
    let kept = 0;
    let dropped = 0;
    // Sorted: the crawl's order varies from run to run, and what is reported should not.
    for (const relative of found.sort()) {
      const absolute = path.resolve(root, relative);
      const shown = path.relative(root, absolute).split(path.sep).join('/');
      if (!within(root, absolute) || hasGitSegment(shown)) {
        dropped++;
        refused.push({ pattern: line, why: `${relative} is outside the workspace` });
        continue;
      }
      const real = await realpath(absolute).catch(() => undefined);
      if (real === undefined) continue; // Gone, or a broken link.
      if (!within(realWorkspace, real)) {
        dropped++;
        refused.push({
          pattern: line,
          why: `${shown} is a symlink to ${real}, outside the workspace`,
        });
        continue;
      }
      if (hasGitSegment(path.relative(realWorkspace, real))) {
        dropped++;
        refused.push({ pattern: line, why: `${shown} leads into .git, which is never uploaded` });
        continue;
      }
      const stats = await stat(real).catch(() => undefined);
      if (!stats?.isFile()) continue;
      files.add(shown);
      kept++;
    }
    if (kept === 0 && dropped === 0) unmatched.push(line);
  }
  return { files: [...files].sort(), refused, unmatched };
}

export interface StageInput {
  /** The staging folder; emptied first. */
  readonly dir: string;
  readonly logPath: string;
  readonly metrics: object;
  readonly resultsFile?: string;
  readonly summaryOverflow?: string;
  /** Prodigy's records on the host (runDir/prodigy-home). */
  readonly prodigyHome: string;
  readonly workspace: string;
  /** Workspace-relative files, as resolveArtifactGlobs gives them. */
  readonly workspaceFiles: readonly string[];
  /** Runs inside this one (the shards of a fan-out): each one's log and records. */
  readonly parts?: readonly RunPart[];
  /** Masks secrets in a file's bytes, as the log is masked. */
  readonly mask: (data: Buffer) => Buffer;
  /** The most the artifact may hold in all (transfer-limit); what would pass it is left out. */
  readonly limit: { readonly bytes: number; readonly text: string };
}

/** A run inside the step's run, with a folder of its own (a shard of `max-parallel`). */
export interface RunPart {
  /** Its folder in the artifact, under `shards/`. */
  readonly name: string;
  readonly logPath: string;
  readonly prodigyHome: string;
}

export interface StagedArtifact {
  readonly dir: string;
  /** Absolute paths of the staged files, under dir. */
  readonly files: string[];
  readonly bytes: number;
  /** Files left out, and why (unreadable, gone, outside the workspace). */
  readonly skipped: { readonly path: string; readonly why: string }[];
  /** Files staged under another name, the artifact service refusing some characters. */
  readonly renamed: { readonly from: string; readonly to: string }[];
}

/** Copies everything the artifact holds into one folder, laid out as the module's comment says. */
export async function stageRunArtifact(input: StageInput): Promise<StagedArtifact> {
  const dir = path.resolve(input.dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const skipped: { path: string; why: string }[] = [];
  const renamed: { from: string; to: string }[] = [];
  const taken = new Set<string>();
  let bytes = 0;

  /** A free artifact path for a wanted one, in characters the service accepts. */
  const claim = (wanted: string): string => {
    const safe = wanted.replace(FORBIDDEN_IN_PATH, '_');
    let chosen = safe;
    for (let n = 2; taken.has(chosen); n++) chosen = `${safe}~${n}`;
    taken.add(chosen);
    if (chosen !== wanted) renamed.push({ from: wanted, to: chosen });
    return chosen;
  };
  const added = async (target: string) => {
    files.push(target);
    bytes += (await stat(target)).size;
  };
  const write = async (relative: string, text: string) => {
    const target = path.join(dir, claim(relative));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, input.mask(Buffer.from(text)));
    await added(target);
  };
  /**
   * A copy, masked as the log is (secrets the workload wrote into a record or a file stay out
   * of the artifact); read as a file the workload may have made: no link, a regular file,
   * bounded.
   */
  const place = async (source: string, relative: string, root?: string) => {
    const chosen = claim(relative);
    const target = path.join(dir, chosen);
    try {
      const room = input.limit.bytes - bytes;
      const data = await readUntrusted(source, {
        what: relative,
        maxBytes: Math.max(0, Math.min(ReadLimits.data, room)),
        ...(root ? { root } : {}),
      }).catch((error: unknown) => {
        if (!(error instanceof FileTooLargeError)) throw error;
        throw new Error(
          `the artifact would pass the transfer-limit of ${input.limit.text}: raise the input 'transfer-limit' to keep it`,
        );
      });
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, input.mask(data));
      await added(target);
    } catch (error) {
      taken.delete(chosen);
      skipped.push({ path: relative, why: (error as Error).message });
    }
  };

  // The log is still written to while this runs: a copy keeps it as it was when staged.
  if (await isFile(input.logPath)) await place(input.logPath, 'cook/output.log');
  else skipped.push({ path: 'cook/output.log', why: `no log at ${input.logPath}` });
  await write('cook/metrics.json', `${JSON.stringify(input.metrics, null, 2)}\n`);
  if (input.resultsFile !== undefined) {
    if (await isFile(input.resultsFile)) await place(input.resultsFile, 'cook/results.json');
    else
      skipped.push({ path: 'cook/results.json', why: `no results file at ${input.resultsFile}` });
  }
  if (input.summaryOverflow !== undefined) await write('cook/summary.md', input.summaryOverflow);

  const records = async (home: string, base: string) => {
    for (const record of await recordFiles(home, skipped)) {
      await place(path.join(home, record), `${base}prodigy/${record}`, home);
    }
    for (const transcript of await transcriptFiles(home, skipped)) {
      await place(path.join(home, CLAUDE_FOLDER, transcript), `${base}claude/${transcript}`, home);
    }
  };
  await records(input.prodigyHome, '');

  for (const part of input.parts ?? []) {
    const base = `shards/${part.name}`;
    if (await isFile(part.logPath)) await place(part.logPath, `${base}/output.log`);
    await records(part.prodigyHome, `${base}/`);
  }

  const workspace = path.resolve(input.workspace);
  const realWorkspace = await realpath(workspace);
  for (const relative of input.workspaceFiles) {
    // Checked again here: a link may have changed since the globbing.
    const real = await realpath(path.resolve(workspace, relative)).catch(() => undefined);
    if (real === undefined) {
      skipped.push({ path: `workspace/${relative}`, why: 'gone since it was matched' });
    } else if (!within(realWorkspace, real)) {
      skipped.push({
        path: `workspace/${relative}`,
        why: `leads to ${real}, outside the workspace`,
      });
    } else {
      await place(real, `workspace/${relative}`);
    }
  }
  return { dir, files, bytes, skipped, renamed };
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

/** Prodigy's record files, relative with forward slashes: no worktrees, no .git, no symlinks. */
async function recordFiles(
  home: string,
  skipped: { path: string; why: string }[],
  claude = false,
): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    let entries: fs.Dirent[];
    try {
      entries = await readdir(path.join(home, relative), { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (relative !== '' || code !== 'ENOENT') {
        skipped.push({ path: `prodigy/${relative}`, why: (error as Error).message });
      }
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        // Worktrees are checkouts of the repository, not records; .git holds git's internals;
        // Claude's folder is staged apart (its transcripts only).
        if (entry.name === 'worktrees' || entry.name === '.git') continue;
        if (relative === '' && entry.name === CLAUDE_FOLDER && !claude) continue;
        await walk(child);
      } else if (entry.isFile()) {
        found.push(child);
      }
    }
  };
  await walk('');
  return found;
}

/**
 * Claude's session transcripts (`projects/…/*.jsonl`, relative to its folder), when its folder and
 * `projects` are folders and not links the workload left.
 */
async function transcriptFiles(
  home: string,
  skipped: { path: string; why: string }[],
): Promise<string[]> {
  const folder = path.join(home, CLAUDE_FOLDER);
  for (const dir of [folder, path.join(folder, 'projects')]) {
    const stats = await lstat(dir).catch(() => undefined);
    if (!stats?.isDirectory()) return [];
  }
  const found = await recordFiles(path.join(folder, 'projects'), skipped, true);
  return found.filter((file) => file.endsWith('.jsonl')).map((file) => `projects/${file}`);
}

/**
 * Stages the run's artifact and uploads it when there is an artifact service; without one the
 * staged folder stays and a notice says where. A failed upload throws, naming the artifact and
 * the service's message: the caller decides what that means for the run.
 */
export async function publishRunArtifact(
  settings: RunArtifactSettings,
  extras: RunArtifactExtras,
  announce: RunArtifactAnnounce,
): Promise<PublishedRunArtifact> {
  const name = artifactName(settings);
  const dir = path.join(settings.runDir, STAGING_FOLDER);
  // Emptied before globbing, so that a run folder inside the workspace never takes itself in.
  await rm(dir, { recursive: true, force: true });
  const globbed = await resolveArtifactGlobs(settings.workspace, settings.artifacts);
  for (const { pattern, why } of globbed.refused) {
    announce.warning(`The artifacts pattern '${pattern}' was not used in full: ${why}.`);
  }
  for (const pattern of globbed.unmatched) {
    announce.note(`The artifacts pattern '${pattern}' matched no file in the workspace.`);
  }
  const staged = await stageRunArtifact({
    dir,
    logPath: settings.logPath,
    metrics: extras.metrics,
    ...(extras.resultsFile === undefined ? {} : { resultsFile: extras.resultsFile }),
    ...(extras.summaryOverflow === undefined ? {} : { summaryOverflow: extras.summaryOverflow }),
    prodigyHome: prodigyHomeIn(settings.runDir),
    workspace: settings.workspace,
    workspaceFiles: globbed.files,
    ...(extras.parts ? { parts: extras.parts } : {}),
    mask: extras.mask,
    limit: settings.transferLimit,
  });
  for (const { path: file, why } of staged.skipped) {
    announce.warning(`Left ${file} out of artifact ${name}: ${why}.`);
  }
  for (const { from, to } of staged.renamed) {
    announce.note(
      `Put ${from} in artifact ${name} as ${to}: the artifact service refuses some characters in paths.`,
    );
  }
  const summary = `${staged.files.length} files, ${formatBytes(staged.bytes)}`;
  const result = { name, dir: staged.dir, files: staged.files.length, bytes: staged.bytes };
  if (!settings.github.artifactService) {
    announce.notice(
      `No artifact service here (not in GitHub Actions): the run's files (${summary}) stay in ${staged.dir}.`,
    );
    return result;
  }
  let id: number;
  try {
    ({ id } = await uploadArtifact(name, staged.files, staged.dir, settings.retentionDays));
  } catch (error) {
    throw new Error(`Uploading artifact ${name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  announce.note(`Uploaded artifact ${name} (${summary}).`);
  return { ...result, id };
}
