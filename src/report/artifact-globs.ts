/** The workspace files the `artifacts` input names: patterns and links that lead out refused. */
import fs from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type FileSystemAdapter, glob, isDynamicPattern } from 'tinyglobby';

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

/** Inside root (or root itself), both absolute. */
export function within(root: string, candidate: string): boolean {
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
  const { includes, excludes, refused } = await readPatterns(root, realWorkspace, patterns);

  const escaping = new Set<string>();
  const ignore = [
    '**/.git',
    '**/.git/**',
    ...excludes.flatMap((pattern) => [pattern, `${pattern}/**`]),
  ];
  const files = new Set<string>();
  const unmatched: string[] = [];
  for (const include of includes) {
    const { kept, dropped } = await includedFiles(
      include,
      { root, realWorkspace, ignore, escaping },
      refused,
    );
    for (const file of kept) files.add(file);
    if (kept.length === 0 && dropped === 0) unmatched.push(include.line);
  }
  return { files: [...files].sort(), refused, unmatched };
}

/** An include line of the input, and its pattern. */
interface Include {
  readonly line: string;
  readonly pattern: string;
}

/**
 * The input's lines sorted into include and exclude patterns; the patterns refused before any
 * globbing, with the reason.
 */
async function readPatterns(
  root: string,
  realWorkspace: string,
  patterns: readonly string[],
): Promise<{ includes: Include[]; excludes: string[]; refused: RefusedPattern[] }> {
  const refused: RefusedPattern[] = [];
  const includes: Include[] = [];
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
  return { includes, excludes, refused };
}

/**
 * The files one include pattern matches, each checked again by its real path: those that lead
 * out of the workspace or into .git are dropped and refused, with the reason.
 */
async function includedFiles(
  { line, pattern }: Include,
  crawl: {
    readonly root: string;
    readonly realWorkspace: string;
    readonly ignore: readonly string[];
    readonly escaping: Set<string>;
  },
  refused: RefusedPattern[],
): Promise<{ kept: string[]; dropped: number }> {
  const { root, realWorkspace } = crawl;
  const found = await glob([pattern, `${pattern}/**`], {
    cwd: root,
    dot: true,
    onlyFiles: true,
    expandDirectories: false,
    followSymbolicLinks: true,
    ignore: crawl.ignore,
    fs: guardedFs(realWorkspace, crawl.escaping),
  });
  const kept: string[] = [];
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
    kept.push(shown);
  }
  return { kept, dropped };
}
