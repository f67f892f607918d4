/**
 * After a run, everything it reports beyond its verdict: the `metrics` output, the run's
 * artifact, the job summary (saying where the artifact is) and the pull-request comment. A
 * report that cannot be made is a warning: the run's status is the workload's alone.
 */
import type { Settings } from '../config/settings.js';
import { Outputs, type OutputName } from '../config/names.js';
import { commentBody, upsertComment } from './comment.js';
import {
  publishRunArtifact,
  type PublishedRunArtifact,
  type RunArtifactAnnounce,
} from './run-artifact.js';
import { type RunPart } from './artifact-staging.js';
import { shortSummary } from './summary.js';
import { type ArtifactPointer, type SummaryParts } from './summary-blocks.js';

export interface ReportInput {
  /** Everything measured: the artifact's metrics.json. */
  readonly metrics: object;
  /** The `metrics` output, when it differs (less detail for a large run). */
  readonly outputMetrics?: object;
  /** The summary, once told where the artifact is. */
  readonly compose: (artifact?: ArtifactPointer) => SummaryParts;
  /** A MapReduce results file, for the artifact. */
  readonly resultsFile?: string;
  /** Runs inside this one (the shards of `max-parallel`), whose logs and records go along. */
  readonly parts?: readonly RunPart[];
}

export interface ReportDeps extends RunArtifactAnnounce {
  /** Masks secrets in what is uploaded, as the log is masked. */
  readonly mask: (data: Buffer) => Buffer;
  readonly setOutput: (name: OutputName, value: string) => void;
  /** Appends to the job summary (GitHub) or shows it (elsewhere). */
  readonly writeSummary?: (markdown: string) => Promise<void>;
}

export interface Reported {
  readonly artifact?: PublishedRunArtifact;
  readonly summary: SummaryParts;
}

export function artifactUrl(settings: Settings, id: number): string | undefined {
  const { serverUrl, repository, runId } = settings.github;
  if (!repository || !runId) return undefined;
  return `${serverUrl.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}/artifacts/${id}`;
}

export async function publishReport(
  settings: Settings,
  input: ReportInput,
  deps: ReportDeps,
): Promise<Reported> {
  deps.setOutput(Outputs.metrics, JSON.stringify(input.outputMetrics ?? input.metrics));
  const first = input.compose();

  let artifact: PublishedRunArtifact | undefined;
  if (!settings.dryRun) {
    try {
      artifact = await publishRunArtifact(
        settings,
        {
          metrics: input.metrics,
          ...(input.resultsFile ? { resultsFile: input.resultsFile } : {}),
          ...(input.parts ? { parts: input.parts } : {}),
          ...(first.cut ? { summaryOverflow: first.full } : {}),
          mask: deps.mask,
        },
        deps,
      );
      if (artifact.id !== undefined) deps.setOutput(Outputs.artifactId, String(artifact.id));
    } catch (error) {
      deps.warning(`The run's artifact could not be made: ${(error as Error).message}`);
    }
  }
  const pointer: ArtifactPointer | undefined = artifact
    ? artifact.id !== undefined
      ? {
          name: artifact.name,
          ...optionalUrl(artifactUrl(settings, artifact.id)),
        }
      : { name: artifact.name, dir: artifact.dir }
    : undefined;
  const summary = input.compose(pointer);
  if (settings.summary && deps.writeSummary) {
    try {
      await deps.writeSummary(summary.markdown);
    } catch (error) {
      deps.warning(`The job summary could not be written: ${(error as Error).message}`);
    }
  }
  if (settings.comment) await comment(settings, summary, deps);
  return { ...(artifact ? { artifact } : {}), summary };
}

function optionalUrl(url: string | undefined): { url?: string } {
  return url === undefined ? {} : { url };
}

async function comment(settings: Settings, summary: SummaryParts, deps: ReportDeps) {
  const { github } = settings;
  if (github.pullRequest === undefined || !github.repository) {
    deps.notice(
      "'comment' is true, but this run is not for a pull request: there is nothing to comment on.",
    );
    return;
  }
  const workflow =
    github.workflow ??
    (settings.workload.kind === 'prodigy' ? settings.workload.workflow : 'cook-action');
  try {
    const done = await upsertComment({
      token: settings.githubToken ?? '',
      apiUrl: github.apiUrl,
      repository: github.repository,
      pullRequest: github.pullRequest,
      workflow,
      body: commentBody({
        workflow,
        shortSummary: shortSummary(summary.markdown),
        ...(github.runUrl ? { runUrl: github.runUrl } : {}),
      }),
    });
    deps.note(
      `${done.action === 'created' ? 'Commented on' : 'Updated the comment on'} pull request #${github.pullRequest}: ${done.url}`,
    );
  } catch (error) {
    deps.warning(`The pull-request comment could not be written: ${(error as Error).message}`);
  }
}
