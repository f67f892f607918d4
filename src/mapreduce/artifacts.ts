/**
 * How plans and shard results travel between the jobs of a workflow run: as artifacts, named so
 * that reduce finds every shard of a plan and the newest attempt of each. Outside GitHub there
 * is no artifact service: nothing is uploaded, and a notice says where the files stay.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { downloadArtifactById, listArtifacts, uploadArtifact } from '../report/artifacts.js';
import { ReadLimits, readUntrusted } from '../results/untrusted.js';
import type { PlannedRun } from './plan.js';
import type { ShardRun } from './shard.js';

export const RESULTS_ARTIFACT_PREFIX = 'cook-results-';

export function planArtifactName(planId: string): string {
  return `cook-plan-${planId}`;
}

export function resultsArtifactName(
  planId: string,
  shard: number,
  shards: number,
  attempt: number,
): string {
  return `${RESULTS_ARTIFACT_PREFIX}${planId}-${shard + 1}of${shards}-a${attempt}`;
}

export interface Announce {
  readonly note: (message: string) => void;
  /** A notice annotation in GitHub; a plain line elsewhere. */
  readonly notice: (message: string) => void;
  /** Masks secrets in what is uploaded, as the log is masked. */
  readonly mask: (data: Buffer) => Buffer;
}

/**
 * A folder's files uploaded as one artifact, masked on the way: each is read as a file the
 * workload may have made (no link, a regular file, bounded) and staged masked beside it.
 */
async function uploadFolder(name: string, dir: string, mask: Announce['mask']) {
  const staged = `${dir}.upload`;
  await rm(staged, { recursive: true, force: true });
  await mkdir(staged, { recursive: true });
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const data = await readUntrusted(path.join(dir, entry.name), {
      what: `${entry.name} of artifact ${name}`,
      maxBytes: ReadLimits.data,
    });
    const target = path.join(staged, entry.name);
    await writeFile(target, mask(data));
    files.push(target);
  }
  return uploadArtifact(name, files, staged);
}

/** Uploads the plan's folder; undefined (with a notice) when there is no artifact service. */
export async function uploadPlan(
  settings: Settings,
  planned: PlannedRun,
  announce: Announce,
): Promise<string | undefined> {
  if (!settings.github.artifactService) {
    announce.notice(
      `No artifact service here (not in GitHub Actions): the plan stays in ${planned.dir}, where shards on this machine read it.`,
    );
    return undefined;
  }
  const name = planArtifactName(planned.plan.id);
  const uploaded = await uploadFolder(name, planned.dir, announce.mask);
  announce.note(`Uploaded the plan as artifact ${name} (${uploaded.size} bytes).`);
  return name;
}

export async function uploadShardResults(
  settings: Settings,
  shard: ShardRun,
  announce: Announce,
): Promise<string | undefined> {
  if (!settings.github.artifactService) {
    announce.notice(
      `No artifact service here (not in GitHub Actions): the shard's results stay in ${shard.dir}; give that folder to reduce's 'results'.`,
    );
    return undefined;
  }
  const { plan, shard: index, shards, attempt } = shard.results;
  const name = resultsArtifactName(plan, index, shards, attempt);
  const uploaded = await uploadFolder(name, shard.dir, announce.mask);
  announce.note(`Uploaded the shard's results as artifact ${name} (${uploaded.size} bytes).`);
  return name;
}

/** Downloads every shard results artifact of this workflow run, one folder each. */
export async function downloadAllResults(into: string): Promise<string[]> {
  const files: string[] = [];
  for (const { name, id } of await listArtifacts()) {
    if (!name.startsWith(RESULTS_ARTIFACT_PREFIX)) continue;
    const dir = path.join(into, name);
    await downloadArtifactById(id, dir);
    files.push(path.join(dir, 'results.json'));
  }
  return files;
}
