/**
 * Workflow-run artifacts through @actions/artifact: the way files travel between the jobs of one
 * run (plan → shards → reduce). Outside GitHub there is no artifact service; callers keep the
 * files on disk and say where.
 *
 * The library is loaded on first use, not at start: it is a large part of the bundle, and most
 * runs never need it.
 */
import type { ArtifactClient } from '@actions/artifact';

let client: Promise<ArtifactClient> | undefined;

async function artifacts(): Promise<ArtifactClient> {
  client ??= import('@actions/artifact').then((module) => new module.DefaultArtifactClient());
  return client;
}

export interface UploadedArtifact {
  readonly name: string;
  readonly id: number;
  readonly size: number;
}

/** Uploads files (absolute paths under rootDirectory) as one artifact. */
export async function uploadArtifact(
  name: string,
  files: readonly string[],
  rootDirectory: string,
  retentionDays?: number,
): Promise<UploadedArtifact> {
  const response = await (
    await artifacts()
  ).uploadArtifact(name, [...files], rootDirectory, {
    ...(retentionDays === undefined ? {} : { retentionDays }),
  });
  if (response.id === undefined) {
    throw new Error(`the artifact service gave no id for artifact ${name}`);
  }
  return { name, id: response.id, size: response.size ?? 0 };
}

/** This run's artifacts, newest attempt's only when one name was uploaded more than once. */
export async function listArtifacts(): Promise<{ name: string; id: number }[]> {
  const { artifacts: found } = await (await artifacts()).listArtifacts({ latest: true });
  return found.map(({ name, id }) => ({ name, id }));
}

/** Downloads one of this run's artifacts, by name, into a folder; undefined when there is none. */
export async function downloadArtifact(name: string, into: string): Promise<string | undefined> {
  const api = await artifacts();
  let id: number;
  try {
    id = (await api.getArtifact(name)).artifact.id;
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return undefined;
    throw error;
  }
  await api.downloadArtifact(id, { path: into });
  return into;
}

export async function downloadArtifactById(id: number, into: string): Promise<void> {
  await (await artifacts()).downloadArtifact(id, { path: into });
}
