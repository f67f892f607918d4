/**
 * The reduce phase over every shard: results merged in item order (a shard that never reported
 * counts its items as failed), shard commits applied to the checkout in shard order, and the
 * workflow's reduce steps run by Prodigy as a standard workflow with `${map.*}` filled in.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import type { RunOutcome, RunStatus } from '../engine/outcome.js';
import { combineUsage } from '../results/claude-records.js';
import { fetchBundle, runGit } from '../results/git.js';
import { reduceWorkflow } from '../workflow/derive.js';
import type { MapReduceWorkflow } from '../workflow/model.js';
import { shardLabel } from '../workflow/shards.js';
import { Exchange } from '../engine/exchange.js';
import { loadMapReduce } from './plan.js';
import {
  mapResultsText,
  type Merged,
  mergeResults,
  readShardResults,
  type ShardResults,
} from './results.js';

export interface ReduceDeps {
  readonly run: (settings: Settings) => Promise<RunOutcome>;
  readonly note: (message: string) => void;
  /** This run's shard results from the artifact service, downloaded into a folder. */
  readonly downloadResults?: (into: string) => Promise<string[]>;
  readonly now?: () => number;
}

export interface Conflict {
  readonly shard: number;
  readonly files: readonly string[];
}

export interface ReduceRun {
  readonly outcome: RunOutcome;
  readonly merged: Merged;
  readonly conflicts: readonly Conflict[];
  /** The merged results (cook-action's form, with totals and shards). */
  readonly file: string;
  /** `${map.results}` in Prodigy's form, as a file. */
  readonly mapResultsFile: string;
  /** The reduce steps' own run, when the workflow has any. */
  readonly reduceOutcome?: RunOutcome;
}

export async function runReduce(
  settings: Settings,
  resultPaths: readonly string[],
  deps: ReduceDeps,
): Promise<ReduceRun> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const workload = settings.workload;
  if (workload.kind !== 'prodigy') throw new Error('reduce runs a Prodigy workflow');
  const wf = await loadMapReduce(settings.workspace, workload.workflow);
  const dir = path.join(settings.runDir, 'reduce');
  await mkdir(dir, { recursive: true });

  const files = await gatherResultFiles(settings.workspace, resultPaths, dir, deps);
  const merged = await mergeShardResults(files, workload.workflow, deps);

  const conflicts = await applyShardCommits(settings.workspace, merged, deps);

  const { file, mapResultsFile } = await writeMergedResults(dir, merged, conflicts);

  const reduceOutcome = await runReduceSteps(settings, wf, merged, deps);

  const outcome = wholeOutcome(settings, merged, conflicts, reduceOutcome, {
    startedAt,
    endedAt: now(),
  });
  return {
    outcome,
    merged,
    conflicts,
    file,
    mapResultsFile,
    ...(reduceOutcome ? { reduceOutcome } : {}),
  };
}

/** The shards' results files: the paths given, else this run's, downloaded from the artifacts. */
async function gatherResultFiles(
  workspace: string,
  resultPaths: readonly string[],
  dir: string,
  deps: ReduceDeps,
): Promise<string[]> {
  if (resultPaths.length > 0) {
    return (
      await Promise.all(resultPaths.map((p) => resultFiles(path.resolve(workspace, p))))
    ).flat();
  }
  if (deps.downloadResults) return await deps.downloadResults(path.join(dir, 'downloaded'));
  throw new Error(
    "no shard results to reduce: outside GitHub there are no artifacts to gather, so give the shards' results files in 'results'",
  );
}

/** Every shard's results read and merged; how each shard and the map phase came out, noted. */
async function mergeShardResults(
  files: readonly string[],
  workflow: string,
  deps: ReduceDeps,
): Promise<Merged> {
  const found: { file: string; results: ShardResults }[] = [];
  for (const file of files) found.push({ file, results: await readShardResults(file) });
  const merged = mergeResults(found, workflow);
  const shards = merged.shards.length;
  for (const shard of merged.shards) {
    deps.note(
      shard.reported
        ? `${shardLabel(shard.shard, shards)}: ${shard.status}, ${shard.size} item(s) (attempt ${shard.attempt}).`
        : `${shardLabel(shard.shard, shards)}: never reported; its ${shard.size} item(s) count as failed.`,
    );
  }
  deps.note(
    `Map phase over ${shards} shard(s): ${merged.successful} successful, ${merged.failed} failed (total: ${merged.total}).`,
  );
  return merged;
}

/** The merged results written: `${map.results}` in Prodigy's form, and cook-action's own. */
async function writeMergedResults(
  dir: string,
  merged: Merged,
  conflicts: readonly Conflict[],
): Promise<{ file: string; mapResultsFile: string }> {
  const mapResultsFile = path.join(dir, 'map-results.json');
  await writeFile(mapResultsFile, `${JSON.stringify(merged.results, null, 2)}\n`);
  const file = path.join(dir, 'results.json');
  await writeFile(
    file,
    JSON.stringify(
      {
        format: 'cook-action/reduce-results@1',
        plan: merged.plan,
        workflow: merged.workflow,
        total: merged.total,
        successful: merged.successful,
        failed: merged.failed,
        shards: merged.shards.map(({ results: _results, ...shard }) => shard),
        conflicts,
        results: merged.results,
      },
      null,
      2,
    ),
  );
  return { file, mapResultsFile };
}

/** The workflow's reduce steps, run by Prodigy with `${map.*}` filled in; undefined when none. */
async function runReduceSteps(
  settings: Settings,
  wf: MapReduceWorkflow,
  merged: Merged,
  deps: ReduceDeps,
): Promise<RunOutcome | undefined> {
  if (wf.reduce && wf.reduce.length > 0) {
    const exchange = await Exchange.fresh(settings, 'reduce');
    await exchange.write(
      'reduce.yml',
      reduceWorkflow(
        wf,
        {
          total: merged.total,
          successful: merged.successful,
          failed: merged.failed,
          resultsText: mapResultsText(merged.results),
        },
        { gitMerge: settings.workload.kind === 'prodigy' && settings.workload.gitMerge },
      ),
    );
    deps.note(
      `Running the reduce phase (${wf.reduce.length} step(s)) with Prodigy, with the totals and results of every shard. Prodigy runs reduce steps only in a MapReduce workflow, so a placeholder map phase of one empty item comes first.`,
    );
    return await deps.run(exchange.running('reduce.yml'));
  } else {
    deps.note('The workflow has no reduce steps.');
    return undefined;
  }
}

/** What went wrong in the reduce as a whole, in words: empty when nothing did. */
function reduceProblems(
  merged: Merged,
  conflicts: readonly Conflict[],
  reduceOutcome: RunOutcome | undefined,
): string[] {
  const shards = merged.shards.length;
  const problems: string[] = [];
  if (reduceOutcome && reduceOutcome.status !== 'succeeded') {
    problems.push(
      `the reduce steps ${reduceOutcome.status === 'failed' ? 'failed' : `were ${reduceOutcome.status}`}: ${reduceOutcome.reason}`,
    );
  }
  if (merged.failed > 0) problems.push(`${merged.failed} of ${merged.total} item(s) failed`);
  if (conflicts.length > 0) {
    problems.push(
      `the commits of ${conflicts.map((c) => shardLabel(c.shard, shards)).join(', ')} conflict with earlier shards`,
    );
  }
  return problems;
}

/** The whole reduce's outcome: the reduce steps' run, judged with the items and the commits. */
function wholeOutcome(
  settings: Settings,
  merged: Merged,
  conflicts: readonly Conflict[],
  reduceOutcome: RunOutcome | undefined,
  times: { readonly startedAt: number; readonly endedAt: number },
): RunOutcome {
  const { startedAt, endedAt } = times;
  const problems = reduceProblems(merged, conflicts, reduceOutcome);
  const status: RunStatus =
    reduceOutcome && (reduceOutcome.status === 'cancelled' || reduceOutcome.status === 'timed-out')
      ? reduceOutcome.status
      : problems.length > 0
        ? 'failed'
        : 'succeeded';
  let outcome: RunOutcome = {
    ...(reduceOutcome ?? {
      runtime: settings.runtime,
      logPath: settings.logPath,
    }),
    status,
    reason: problems.length > 0 ? problems.join('; ') : `${merged.total} item(s) succeeded`,
    startedAt,
    endedAt,
    durationSeconds: (endedAt - startedAt) / 1000,
  };
  // What Claude cost is the whole run's: every shard's and the reduce's own.
  const claude = combineUsage([
    ...merged.shards.map((s) => s.results?.claude),
    reduceOutcome?.claude,
  ]);
  if (claude) outcome = { ...outcome, claude };
  return outcome;
}

/** Results files in a path: the file itself, or every results.json below a folder. */
async function resultFiles(target: string): Promise<string[]> {
  if (!existsSync(target)) throw new Error(`the results path ${target} does not exist`);
  if (statSync(target).isFile()) return [target];
  const found: string[] = [];
  for (const entry of await readdir(target, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name === 'results.json')
      found.push(path.join(entry.parentPath, entry.name));
  }
  return found.sort();
}

/**
 * Merges each shard's commits into the checked-out branch, in shard order. A shard whose commits
 * conflict with earlier ones is left out, and the files in conflict are named.
 */
async function applyShardCommits(
  workspace: string,
  merged: Merged,
  deps: ReduceDeps,
): Promise<Conflict[]> {
  const conflicts: Conflict[] = [];
  const shards = merged.shards.length;
  const identity = [
    '-c',
    'user.name=cook-action',
    '-c',
    'user.email=cook-action@users.noreply.github.com',
  ];
  for (const shard of merged.shards) {
    if (!shard.results?.bundle || !shard.file) continue;
    const label = shardLabel(shard.shard, shards);
    const bundle = path.join(path.dirname(shard.file), shard.results.bundle);
    let tip: string;
    try {
      tip = await fetchBundle(workspace, bundle);
    } catch (error) {
      deps.note(`${label}: its commits could not be read: ${(error as Error).message}`);
      conflicts.push({ shard: shard.shard, files: [] });
      continue;
    }
    try {
      await runGit(
        workspace,
        ...identity,
        'merge',
        '--no-edit',
        '--quiet',
        '-m',
        `Merge ${label} of the map phase`,
        tip,
      );
      deps.note(`${label}: commits merged (${tip.slice(0, 12)}).`);
    } catch {
      const files = (
        await runGit(workspace, 'diff', '--name-only', '--diff-filter=U').catch(() => '')
      )
        .split('\n')
        .filter(Boolean);
      await runGit(workspace, 'merge', '--abort').catch(() => undefined);
      conflicts.push({ shard: shard.shard, files });
      deps.note(
        `${label}: its commits conflict with earlier shards${files.length > 0 ? ` in ${files.join(', ')}` : ''}; they were not merged.`,
      );
    }
  }
  return conflicts;
}
