/**
 * `max-parallel` from one runner: the action plans the items itself, runs every shard at once (one
 * container each on Docker, one process each on the local runtime, one index each of an Indexed
 * Job on Kubernetes), each in a checkout of its own, then reduces into the workspace: the matrix
 * flow without the matrix.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import type { ShardEntry } from '../config/shard.js';
import type { RunOutcome } from '../engine/outcome.js';
import { runGitIn } from '../results/git.js';
import { shardLabel } from '../workflow/shards.js';
import { planMatrix } from './matrix.js';
import { makePlan, type PlannedRun } from './plan.js';
import { type ReduceRun, runReduce } from './reduce.js';
import { runShard, type ShardRun } from './shard.js';

export interface FanOutDeps {
  /** Runs a workload with the step's own output (plan, reduce). */
  readonly run: (settings: Settings) => Promise<RunOutcome>;
  /** Runs shard `index`'s workload, its output going to that shard's place. */
  readonly runShardWorkload: (settings: Settings, index: number) => Promise<RunOutcome>;
  /** Shard `index` has ended: its output is complete. */
  readonly shardEnded: (index: number) => void;
  /** Called once the plan is known, before any shard starts. */
  readonly planned?: (planned: PlannedRun) => void;
  readonly note: (message: string) => void;
  /** Aborted when the run is cancelled: no reduce follows. */
  readonly signal?: AbortSignal;
  /** Notes of shard `index`, among its output. */
  readonly shardNote: (index: number, message: string) => void;
}

export interface FanOut {
  readonly planned: PlannedRun;
  readonly shards: readonly (ShardRun | { readonly error: string })[];
  /** The reduce, unless the run was cancelled before it. */
  readonly reduced?: ReduceRun;
  /** How the whole came out: the reduce's outcome, or the cancellation. */
  readonly outcome: RunOutcome;
}

export async function fanOut(
  settings: Settings,
  shardCount: number,
  deps: FanOutDeps,
): Promise<FanOut> {
  const startedAt = Date.now();
  // No matrix holds these shards: GitHub's limit on one is not theirs (config/workload.ts
  // bounds max-parallel by the runtime).
  const planned = await makePlan(
    settings,
    { shards: shardCount },
    { run: deps.run, note: deps.note },
    shardCount,
  );
  deps.planned?.(planned);
  const entries = planMatrix(planned, undefined).matrix.include;
  deps.note(
    `Running ${entries.length} shard(s) at once, each in a checkout of its own: ${entries.map((e) => `${e.name} (${e.size} items)`).join(', ')}.`,
  );

  const shards = await Promise.all(
    entries.map((entry, index) => runShardInCheckout(settings, entry, index, entries.length, deps)),
  );

  if (deps.signal?.aborted) {
    // The shards were stopped: merging what they left into the checkout is not what was asked.
    const endedAt = Date.now();
    return {
      planned,
      shards,
      outcome: {
        status: 'cancelled',
        reason: 'the run was cancelled while its shards ran; no reduce followed',
        runtime: settings.runtime,
        logPath: settings.logPath,
        startedAt,
        endedAt,
        durationSeconds: (endedAt - startedAt) / 1000,
      },
    };
  }
  const reduced = await runReduce(
    settings,
    shards.flatMap((shard) => ('dir' in shard ? [shard.dir] : [])),
    { run: deps.run, note: deps.note },
  );
  return { planned, shards, reduced, outcome: reduced.outcome };
}

/**
 * Shard `index` run in a checkout of its own, under `<runDir>/shard-<n>`; a shard that cannot
 * run says why, and its end is told either way.
 */
async function runShardInCheckout(
  settings: Settings,
  entry: ShardEntry,
  index: number,
  shards: number,
  deps: FanOutDeps,
): Promise<ShardRun | { readonly error: string }> {
  const group = settings.runGroup ?? settings.runId;
  const runDir = path.join(settings.runDir, `shard-${index + 1}`);
  try {
    const checkout = path.join(runDir, 'checkout');
    await mkdir(runDir, { recursive: true });
    await cloneCheckout(settings.workspace, checkout);
    const shardSettings: Settings = {
      ...settings,
      runId: `${settings.runId}-${index + 1}`,
      runGroup: group,
      runDir,
      logPath: path.join(runDir, 'output.log'),
      workspace: checkout,
      shard: entry,
    };
    return await runShard(shardSettings, entry, {
      run: (s) => deps.runShardWorkload(s, index),
      note: (message) => deps.shardNote(index, message),
    });
  } catch (error) {
    const message = (error as Error).message;
    deps.shardNote(index, `${shardLabel(index, shards)} could not run: ${message}`);
    return { error: message };
  } finally {
    deps.shardEnded(index);
  }
}

/**
 * A checkout of the workspace's HEAD for one shard: a local clone (objects hard-linked, no path
 * back to the workspace, so it works mounted in a container as well).
 */
async function cloneCheckout(workspace: string, into: string): Promise<void> {
  await runGitIn(undefined, ['clone', '--quiet', '--local', '--no-checkout', workspace, into]);
  const head = await runGitIn(workspace, ['rev-parse', 'HEAD']);
  await runGitIn(into, ['checkout', '--quiet', '--detach', head]);
}
