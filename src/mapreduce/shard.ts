/**
 * One shard of a plan: its items run by the real Prodigy through a derived workflow, in the
 * runtime the settings name, and its per-item results and commits kept for reduce.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ShardEntry } from '../config/shard.js';
import type { Settings } from '../config/settings.js';
import type { RunOutcome, RunStatus } from '../engine/outcome.js';
import { metrics } from '../report/outputs.js';
import { createBundle, fetchBundle, headCommit, runGit } from '../results/git.js';
import { shardWorkflow } from '../workflow/derive.js';
import type { MapReduceWorkflow } from '../workflow/model.js';
import { parseJson, stringifyJson, type JsonValue } from '../workflow/values.js';
import { Exchange } from '../engine/exchange.js';
import { loadMapReduce, PlanFileNames } from './plan.js';
import {
  type AgentResult,
  globalResults,
  itemStatus,
  RESULTS_FORMAT,
  type ShardResults,
} from './results.js';
import { itemId, shardLabel } from '../workflow/shards.js';
import { renameItems } from '../results/claude-records.js';
import { ReadLimits, readUntrustedText, readUntrustedTextIfAny } from '../results/untrusted.js';

export interface ShardDeps {
  readonly run: (settings: Settings) => Promise<RunOutcome>;
  readonly note: (message: string) => void;
  /** Fetches the plan's artifact into a folder; undefined when it cannot be had. */
  readonly downloadPlan?: (artifact: string, into: string) => Promise<string | undefined>;
  readonly now?: () => number;
}

export interface ShardRun {
  readonly outcome: RunOutcome;
  readonly results: ShardResults;
  /** The results file (results.json) and its folder, with the bundle beside it. */
  readonly file: string;
  readonly dir: string;
}

export async function runShard(
  settings: Settings,
  entry: ShardEntry,
  deps: ShardDeps,
): Promise<ShardRun> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const label = shardLabel(entry.shard, entry.shards);
  const workload = settings.workload;
  if (workload.kind !== 'prodigy') throw new Error('a shard runs a Prodigy workflow');
  const wf = await loadMapReduce(settings.workspace, workload.workflow);

  const items = await shardItems(settings, entry, deps);
  const head = await headCommit(settings.workspace);
  if (head !== entry.base) {
    deps.note(
      `Note: the checkout is at ${head.slice(0, 12)}, the plan was made at ${entry.base.slice(0, 12)}; the shard runs on what is checked out.`,
    );
  }
  if (entry.setup) await applySetup(settings, entry, deps);

  const dir = path.join(settings.runDir, 'results');
  await mkdir(dir, { recursive: true });
  const layout = { index: entry.shard, first: entry.first, size: entry.size };
  const ran: ItemsRun =
    items.length === 0
      ? noItems(settings, label, { startedAt, now }, deps)
      : await runItems(settings, wf, entry, items, label, deps);
  const { outcome } = ran;

  const results = globalResults(layout, entry.shards, ran.prodigyResults, ran.missing);
  const failed = results.filter((r) => itemStatus(r) !== 'success').length;
  const bundle = await bundleCommits(settings, entry, dir, outcome, deps);
  // A shard fails when its run failed or when any of its items did.
  const status =
    outcome.status !== 'succeeded' ? outcome.status : failed > 0 ? 'failed' : 'succeeded';
  const reason =
    outcome.status !== 'succeeded'
      ? outcome.reason
      : failed > 0
        ? `${failed} of ${results.length} item(s) failed`
        : outcome.reason;
  const shardResults = shardResultsOf(settings, entry, outcome, {
    status,
    reason,
    durationSeconds: (now() - startedAt) / 1000,
    startedAt,
    results,
    bundle,
  });
  const file = path.join(dir, 'results.json');
  await writeFile(file, JSON.stringify(shardResults, null, 2));
  deps.note(
    `${label}: ${results.length - failed} of ${results.length} item(s) succeeded${bundle ? ', commits kept in shard.bundle' : ''}; results in ${file}.`,
  );
  return { outcome: { ...outcome, status, reason }, results: shardResults, file, dir };
}

/** Why an item Prodigy did not report has no result, when nothing more is known. */
const NOT_REPORTED = 'Prodigy did not report a result for this item';

/** How the shard's items ran: the run's outcome and what Prodigy reported of each item. */
interface ItemsRun {
  readonly outcome: RunOutcome;
  readonly prodigyResults: readonly AgentResult[];
  /** Why an item Prodigy did not report has no result. */
  readonly missing: string;
}

/** A shard without items: nothing runs, and that is a success. */
function noItems(
  settings: Settings,
  label: string,
  clock: { readonly startedAt: number; readonly now: () => number },
  deps: ShardDeps,
): ItemsRun {
  const { startedAt, now } = clock;
  deps.note(`${label} has no items: nothing to run.`);
  const endedAt = now();
  return {
    outcome: {
      status: 'succeeded',
      reason: 'no items to run',
      runtime: settings.runtime,
      logPath: settings.logPath,
      startedAt,
      endedAt,
      durationSeconds: (endedAt - startedAt) / 1000,
    },
    prodigyResults: [],
    missing: NOT_REPORTED,
  };
}

/** The shard's items run by Prodigy through the shard's workflow, and its results read back. */
async function runItems(
  settings: Settings,
  wf: MapReduceWorkflow,
  entry: ShardEntry,
  items: JsonValue[],
  label: string,
  deps: ShardDeps,
): Promise<ItemsRun> {
  deps.note(
    `${label}: ${items.length} item(s), item_${entry.first} to item_${entry.first + items.length - 1} of ${entry.total}.`,
  );
  const exchange = await Exchange.fresh(settings, 'shard');
  await exchange.write('items.json', stringifyJson(items));
  await exchange.write(
    'shard.yml',
    shardWorkflow(wf, {
      itemsFile: exchange.inWorkload('items.json'),
      resultsFile: exchange.inWorkload('results.json'),
      ...(entry.env ? { captures: entry.env } : {}),
      gitMerge: settings.workload.kind === 'prodigy' && settings.workload.gitMerge,
    }),
  );
  let outcome = await deps.run(exchange.running('shard.yml'));
  // Claude's items are numbered in the shard; in every report they are named in the whole list.
  if (outcome.claude) {
    const renamed = renameItems(outcome.claude, (local) => {
      const match = /^item_(\d+)$/.exec(local);
      return match ? itemId(entry.first + Number(match[1])) : local;
    });
    outcome = { ...outcome, claude: renamed };
  }
  return { outcome, ...(await readProdigyResults(exchange, outcome)) };
}

/** The shard's results as Prodigy wrote them, or why an unreported item has none. */
async function readProdigyResults(
  exchange: Exchange,
  outcome: RunOutcome,
): Promise<{ prodigyResults: AgentResult[]; missing: string }> {
  let prodigyResults: AgentResult[] = [];
  let missing = NOT_REPORTED;
  const text = await readUntrustedTextIfAny(exchange.path('results.json'), {
    what: "the shard's results",
    maxBytes: ReadLimits.data,
    root: exchange.host,
  });
  if (text === undefined) {
    missing = `Prodigy ended (${outcome.reason}) before it reported the shard's results`;
  } else if (text.trim() !== '') {
    try {
      prodigyResults = JSON.parse(text) as AgentResult[];
    } catch (error) {
      missing = `Prodigy's results could not be read: ${(error as Error).message}`;
    }
  }
  return { prodigyResults, missing };
}

/** The shard's commits, from the plan's base, in shard.bundle; undefined when there are none. */
async function bundleCommits(
  settings: Settings,
  entry: ShardEntry,
  dir: string,
  outcome: RunOutcome,
  deps: ShardDeps,
): Promise<string | undefined> {
  if (!outcome.git) return undefined;
  const made = await createBundle(
    settings.workspace,
    path.join(dir, 'shard.bundle'),
    entry.base,
    outcome.git.branch,
  ).catch((error: unknown) => {
    deps.note(`The shard's commits could not be bundled: ${(error as Error).message}`);
    return false;
  });
  return made ? 'shard.bundle' : undefined;
}

/** The shard's results file, as reduce reads it back. */
function shardResultsOf(
  settings: Settings,
  entry: ShardEntry,
  outcome: RunOutcome,
  ended: {
    readonly status: RunStatus;
    readonly reason: string;
    readonly durationSeconds: number;
    readonly startedAt: number;
    readonly results: readonly AgentResult[];
    readonly bundle: string | undefined;
  },
): ShardResults {
  const { status, reason, durationSeconds, startedAt, results, bundle } = ended;
  return {
    format: RESULTS_FORMAT,
    plan: entry.plan,
    workflow: entry.workflow,
    shard: entry.shard,
    shards: entry.shards,
    total: entry.total,
    first: entry.first,
    size: entry.size,
    attempt: Number(settings.github.runAttempt ?? '1') || 1,
    status,
    reason,
    ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
    durationSeconds,
    startedAt: new Date(startedAt).toISOString(),
    metrics: metrics(outcome),
    ...(outcome.claude ? { claude: outcome.claude } : {}),
    ...(status !== 'succeeded' && outcome.logTail?.length ? { logTail: outcome.logTail } : {}),
    results,
    ...(bundle ? { bundle } : {}),
  };
}

/** The shard's items: inline in the entry, else from the plan's folder or its artifact. */
async function shardItems(
  settings: Settings,
  entry: ShardEntry,
  deps: ShardDeps,
): Promise<JsonValue[]> {
  let text = entry.items;
  if (text === undefined) {
    const file = await planFile(settings, entry, PlanFileNames.items(entry.shard), deps);
    text = await readUntrustedText(file, { what: "the shard's items", maxBytes: ReadLimits.data });
  }
  const items = parseJson(text);
  if (!Array.isArray(items) || items.length !== entry.size) {
    throw new Error(
      `${shardLabel(entry.shard, entry.shards)} should have ${entry.size} item(s) and has ${Array.isArray(items) ? items.length : 'no list of'} items`,
    );
  }
  return items;
}

/** A file of the plan: in its folder when this is the machine that planned, else its artifact. */
async function planFile(
  settings: Settings,
  entry: ShardEntry,
  name: string,
  deps: ShardDeps,
): Promise<string> {
  const local = path.join(entry.dir, name);
  if (existsSync(local)) return local;
  const downloaded = path.join(settings.runDir, 'plan');
  if (!existsSync(path.join(downloaded, name)) && entry.artifact && deps.downloadPlan) {
    await deps.downloadPlan(entry.artifact, downloaded);
  }
  if (existsSync(path.join(downloaded, name))) return path.join(downloaded, name);
  throw new Error(
    `the plan's ${name} is neither in ${entry.dir} (the planning machine's folder) nor in ${
      entry.artifact
        ? `the artifact ${entry.artifact}`
        : 'an artifact (the plan uploaded none: it ran outside GitHub)'
    }`,
  );
}

/** Setup's commits, made once by the plan, become the shard's starting point. */
async function applySetup(settings: Settings, entry: ShardEntry, deps: ShardDeps): Promise<void> {
  const bundle = await planFile(settings, entry, PlanFileNames.setupBundle, deps);
  const tip = await fetchBundle(settings.workspace, bundle);
  await runGit(settings.workspace, 'merge', '--ff-only', '--quiet', tip).catch((error: unknown) => {
    throw new Error(
      `setup's commits (from the plan) cannot be applied to this checkout: ${(error as Error).message.split('\n').slice(-2).join(' ')}`,
    );
  });
  deps.note(`Applied setup's commits from the plan (now at ${tip.slice(0, 12)}).`);
}
