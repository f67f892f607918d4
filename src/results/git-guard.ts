/**
 * The checkout's git files that make git run programs (configuration, hooks, and where objects
 * and the common folder are found) are put back as they were before the run, and no `.git`
 * that was not there before comes back in the working tree. In a container the workload never
 * sees the checkout's own `.git` (results/container-git.ts), so this is what stops a `.git` it
 * plants below the workspace (`sub/.git` with `core.fsmonitor`), and a second line for the
 * checkout's own files; with runtime `local` it is the only one.
 */
import { chmod, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Files of a git folder that decide which programs git runs, relative to the folder. */
const GUARDED_FILES = ['config', 'config.worktree', 'commondir', 'objects/info/alternates'];
const HOOKS = 'hooks';
/** A gitfile is a line; anything bigger is not one worth keeping byte for byte. */
const MAX_GITFILE = 64 * 1024;

interface Saved {
  readonly content: Buffer;
  readonly mode: number;
}

type GitEntry =
  | { readonly kind: 'folder'; readonly files: ReadonlyMap<string, Saved> }
  | { readonly kind: 'file'; readonly saved: Saved }
  | { readonly kind: 'other' };

async function save(file: string): Promise<Saved | undefined> {
  const stats = await lstat(file).catch(() => undefined);
  if (!stats?.isFile()) return undefined;
  return { content: await readFile(file), mode: stats.mode & 0o7777 };
}

async function saveFolder(gitDir: string): Promise<Map<string, Saved>> {
  const files = new Map<string, Saved>();
  for (const name of GUARDED_FILES) {
    const saved = await save(path.join(gitDir, name));
    if (saved) files.set(name, saved);
  }
  for (const name of await hookEntries(gitDir)) {
    const saved = await save(path.join(gitDir, name));
    if (saved) files.set(name, saved);
  }
  return files;
}

/** Every entry under hooks/ that is not a folder, whatever its type. */
async function hookEntries(gitDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(gitDir, relative), { withFileTypes: true }).catch(
      () => [],
    );
    for (const entry of entries) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(name);
      else found.push(name);
    }
  };
  await walk(HOOKS);
  return found;
}

async function saveEntry(file: string): Promise<GitEntry> {
  const stats = await lstat(file);
  if (stats.isDirectory()) return { kind: 'folder', files: await saveFolder(file) };
  if (stats.isFile() && stats.size <= MAX_GITFILE) {
    return { kind: 'file', saved: (await save(file))! };
  }
  return { kind: 'other' };
}

/** Every `.git` below the workspace (the checkout's own included), not looking inside them. */
async function findGitEntries(workspace: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(workspace, relative), { withFileTypes: true }).catch(
      () => [],
    );
    for (const entry of entries) {
      const name = relative ? path.join(relative, entry.name) : entry.name;
      if (entry.name === '.git') found.push(name);
      else if (entry.isDirectory()) await walk(name);
    }
  };
  await walk('');
  return found;
}

async function restoreFolder(
  gitDir: string,
  files: ReadonlyMap<string, Saved>,
  shown: string,
  notes: string[],
): Promise<void> {
  const now = await saveFolder(gitDir);
  const changed: string[] = [];
  for (const [name, saved] of files) {
    const current = now.get(name);
    if (current && current.content.equals(saved.content) && current.mode === saved.mode) continue;
    const target = path.join(gitDir, name);
    await rm(target, { recursive: true, force: true });
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, saved.content);
    await chmod(target, saved.mode);
    changed.push(name);
  }
  // Anything else in hooks/ is new: a file, and also a link or FIFO (git runs a hook through a
  // link), which `now` does not hold.
  for (const name of await hookEntries(gitDir)) {
    if (files.has(name)) continue;
    await rm(path.join(gitDir, name), { force: true });
    changed.push(name);
  }
  // A guarded path the workload made into a folder or a link is not a file `now` has.
  for (const name of [...GUARDED_FILES].filter((n) => !files.has(n) && !now.has(n))) {
    const target = path.join(gitDir, name);
    if (await lstat(target).catch(() => undefined)) {
      await rm(target, { recursive: true, force: true });
      changed.push(name);
    }
  }
  if (changed.length > 0) {
    notes.push(
      `the workload changed ${changed
        .slice(0, 8)
        .map((name) => path.posix.join(shown, name.split(path.sep).join('/')))
        .join(
          ', ',
        )}${changed.length > 8 ? ` and ${changed.length - 8} more` : ''}: put back as it was before the run`,
    );
  }
}

export interface GitGuard {
  /** Puts the saved files back, removes new `.git` entries; what was done, for the log. */
  restore(): Promise<string[]>;
}

/** Saves the checkout's git files (and any nested `.git`) before the run. */
export async function guardGitFiles(workspace: string): Promise<GitGuard> {
  const saved = new Map<string, GitEntry>();
  for (const name of await findGitEntries(workspace)) {
    saved.set(name, await saveEntry(path.join(workspace, name)));
  }
  return {
    async restore() {
      const notes: string[] = [];
      for (const name of await findGitEntries(workspace)) {
        const full = path.join(workspace, name);
        const shown = name.split(path.sep).join('/');
        const before = saved.get(name);
        const stats = await lstat(full).catch(() => undefined);
        if (!stats) continue;
        if (!before) {
          await rm(full, { recursive: true, force: true });
          notes.push(`the workload made ${shown}, which was not there before the run: removed`);
        } else if (before.kind === 'folder' && stats.isDirectory()) {
          await restoreFolder(full, before.files, shown, notes);
        } else if (before.kind === 'file' && stats.isFile()) {
          const current = await readFile(full);
          if (!current.equals(before.saved.content)) {
            await writeFile(full, before.saved.content);
            notes.push(`the workload changed ${shown}: put back as it was before the run`);
          }
        } else if (before.kind !== 'other') {
          notes.push(
            `the workload replaced ${shown} with something else; git in this checkout is not to be trusted now`,
          );
          if (before.kind === 'file') {
            await rm(full, { recursive: true, force: true });
            await writeFile(full, before.saved.content);
          }
        }
      }
      return notes;
    },
  };
}
