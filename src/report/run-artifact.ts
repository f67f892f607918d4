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
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { GitHubContext, Settings } from '../config/settings.js';
import type { ShardEntry } from '../config/shard.js';
import { prodigyHomeIn } from '../runtime/spec.js';
import { resolveArtifactGlobs } from './artifact-globs.js';
import { type RunPart, stageRunArtifact } from './artifact-staging.js';
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
