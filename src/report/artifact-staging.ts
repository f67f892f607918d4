/** The run's artifact staged: everything it holds, masked, bounded and laid out in one folder. */
import type fs from 'node:fs';
import { copyFile, lstat, mkdir, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileTooLargeError, ReadLimits, readUntrusted } from '../results/untrusted.js';
import { CLAUDE_FOLDER } from '../workflow/prodigy.js';
import { within } from './artifact-globs.js';

/** Characters the artifact service refuses in file paths (and, with \ and /, in names). */
const FORBIDDEN_IN_PATH = /[":<>|*?\r\n]/g;

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

/**
 * Copies everything the artifact holds into one folder, laid out as run-artifact.ts's module
 * comment says.
 */
export async function stageRunArtifact(input: StageInput): Promise<StagedArtifact> {
  const dir = path.resolve(input.dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const staging = new Staging(dir, input.mask, input.limit);

  // The log is still written to while this runs: a copy keeps it as it was when staged.
  if (await isFile(input.logPath)) await staging.placeLog(input.logPath, 'cook/output.log');
  else staging.skipped.push({ path: 'cook/output.log', why: `no log at ${input.logPath}` });
  await staging.write('cook/metrics.json', `${JSON.stringify(input.metrics, null, 2)}\n`);
  if (input.resultsFile !== undefined) {
    if (await isFile(input.resultsFile)) {
      await staging.place(input.resultsFile, 'cook/results.json');
    } else {
      staging.skipped.push({
        path: 'cook/results.json',
        why: `no results file at ${input.resultsFile}`,
      });
    }
  }
  if (input.summaryOverflow !== undefined) {
    await staging.write('cook/summary.md', input.summaryOverflow);
  }

  await stageRecords(staging, input.prodigyHome, '');

  for (const part of input.parts ?? []) {
    const base = `shards/${part.name}`;
    if (await isFile(part.logPath)) await staging.placeLog(part.logPath, `${base}/output.log`);
    await stageRecords(staging, part.prodigyHome, `${base}/`);
  }

  await stageWorkspaceFiles(staging, input.workspace, input.workspaceFiles);
  return {
    dir,
    files: staging.files,
    bytes: staging.bytes,
    skipped: staging.skipped,
    renamed: staging.renamed,
  };
}

/** The staging folder as it fills: what it holds, what was left out or renamed, and its size. */
class Staging {
  readonly files: string[] = [];
  readonly skipped: { path: string; why: string }[] = [];
  readonly renamed: { from: string; to: string }[] = [];
  private readonly taken = new Set<string>();
  private size = 0;

  constructor(
    private readonly dir: string,
    private readonly mask: (data: Buffer) => Buffer,
    private readonly limit: StageInput['limit'],
  ) {}

  /** The bytes staged so far. */
  get bytes(): number {
    return this.size;
  }

  /** A free artifact path for a wanted one, in characters the service accepts. */
  private claim(wanted: string): string {
    const safe = wanted.replace(FORBIDDEN_IN_PATH, '_');
    let chosen = safe;
    for (let n = 2; this.taken.has(chosen); n++) chosen = `${safe}~${n}`;
    this.taken.add(chosen);
    if (chosen !== wanted) this.renamed.push({ from: wanted, to: chosen });
    return chosen;
  }

  private async added(target: string): Promise<void> {
    this.files.push(target);
    this.size += (await stat(target)).size;
  }

  async write(relative: string, text: string): Promise<void> {
    const target = path.join(this.dir, this.claim(relative));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, this.mask(Buffer.from(text)));
    await this.added(target);
  }

  /**
   * A copy of a log the action wrote, masked already: copied as it is, never read into memory
   * (a log may be gigabytes).
   */
  async placeLog(source: string, relative: string): Promise<void> {
    await this.staged(relative, async (target) => {
      if ((await stat(source)).size > this.limit.bytes - this.size) throw overLimit(this.limit);
      await copyFile(source, target);
    });
  }

  /**
   * A copy, masked as the log is (secrets the workload wrote into a record or a file stay out
   * of the artifact); read as a file the workload may have made: no link, a regular file,
   * bounded.
   */
  async place(source: string, relative: string, root?: string): Promise<void> {
    await this.staged(relative, async (target) => {
      const room = this.limit.bytes - this.size;
      const data = await readUntrusted(source, {
        what: relative,
        maxBytes: Math.max(0, Math.min(ReadLimits.data, room)),
        ...(root ? { root } : {}),
      }).catch((error: unknown) => {
        if (!(error instanceof FileTooLargeError)) throw error;
        throw overLimit(this.limit);
      });
      await writeFile(target, this.mask(data));
    });
  }

  /** Writes `relative` with `write`; when that fails, the file is left out, saying why. */
  private async staged(relative: string, write: (target: string) => Promise<void>) {
    const chosen = this.claim(relative);
    const target = path.join(this.dir, chosen);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await write(target);
      await this.added(target);
    } catch (error) {
      this.taken.delete(chosen);
      this.skipped.push({ path: relative, why: (error as Error).message });
    }
  }
}

/** One run's records: Prodigy's under `<base>prodigy/`, Claude's transcripts in `<base>claude/`. */
async function stageRecords(staging: Staging, home: string, base: string): Promise<void> {
  for (const record of await recordFiles(home, staging.skipped)) {
    await staging.place(path.join(home, record), `${base}prodigy/${record}`, home);
  }
  for (const transcript of await transcriptFiles(home, staging.skipped)) {
    await staging.place(
      path.join(home, CLAUDE_FOLDER, transcript),
      `${base}claude/${transcript}`,
      home,
    );
  }
}

/** The files the `artifacts` globs matched, under `workspace/`, each checked by its real path. */
async function stageWorkspaceFiles(
  staging: Staging,
  workspaceDir: string,
  workspaceFiles: readonly string[],
): Promise<void> {
  const workspace = path.resolve(workspaceDir);
  const realWorkspace = await realpath(workspace);
  for (const relative of workspaceFiles) {
    // Checked again here: a link may have changed since the globbing.
    const real = await realpath(path.resolve(workspace, relative)).catch(() => undefined);
    if (real === undefined) {
      staging.skipped.push({ path: `workspace/${relative}`, why: 'gone since it was matched' });
    } else if (!within(realWorkspace, real)) {
      staging.skipped.push({
        path: `workspace/${relative}`,
        why: `leads to ${real}, outside the workspace`,
      });
    } else {
      await staging.place(real, `workspace/${relative}`);
    }
  }
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

function overLimit(limit: StageInput['limit']): Error {
  return new Error(
    `the artifact would pass the transfer-limit of ${limit.text}: raise the input 'transfer-limit' to keep it`,
  );
}
