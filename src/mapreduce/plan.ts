/**
 * A plan: the work items of a MapReduce workflow, computed once in Prodigy's order, split into
 * shards, and written down with everything a shard needs from setup (its commits as a git bundle,
 * its captured variables). Shared by the `plan` sub-action and by the action's own fan-out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../config/errors.js';
import { Inputs } from '../config/names.js';
import type { Settings } from '../config/settings.js';
import type { RunOutcome } from '../engine/outcome.js';
import { createBundle, headCommit } from '../results/git.js';
import { PlanFiles, captureNames, planScripts, planWorkflow } from '../workflow/derive.js';
import { itemsSourceFromCommand, itemsSourceFromFile, workItems } from '../workflow/items.js';
import { type JsonValue, PipelineError, stringifyJson } from '../workflow/values.js';
import { type MapReduceWorkflow, parseWorkflow, WorkflowError } from '../workflow/model.js';
import { Exchange } from '../engine/exchange.js';
import {
  layoutShards,
  MAX_SHARDS,
  type ShardLayout,
  type ShardRequest,
} from '../workflow/shards.js';
import { ReadLimits, readUntrustedText, readUntrustedTextIfAny } from '../results/untrusted.js';

/** plan.json: what reduce and the shards read back. */
export const PLAN_FORMAT = 'cook-action/plan@1';

export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  /** Random id shared by the plan's shards and their results. */
  readonly id: string;
  /** Workspace-relative workflow file. */
  readonly workflow: string;
  /** The commit the plan started from; shard bundles are relative to it. */
  readonly base: string;
  readonly itemCount: number;
  readonly shards: readonly ShardLayout[];
  /** Variables setup captured (`capture_outputs`), for the agents. */
  readonly captures: Readonly<Record<string, string>>;
  /** setup.bundle in the plan folder holds setup's commits. */
  readonly setupBundle: boolean;
}

export interface PlannedRun {
  readonly plan: Plan;
  /** Host folder with plan.json, items-<n>.json per shard and setup.bundle. */
  readonly dir: string;
  readonly items: readonly JsonValue[];
}

export interface PlanDeps {
  /** Runs a workload to its end (the run logged into the step log). */
  readonly run: (settings: Settings) => Promise<RunOutcome>;
  readonly note: (message: string) => void;
}

export const PlanFileNames = {
  plan: 'plan.json',
  setupBundle: 'setup.bundle',
  items: (shard: number) => `items-${shard}.json`,
} as const;

/** Reads and checks the workflow: it must be MapReduce, with a pipeline Prodigy would accept. */
export async function loadMapReduce(
  workspace: string,
  workflow: string,
): Promise<MapReduceWorkflow> {
  const text = await readFile(path.join(workspace, workflow), 'utf8');
  const model = parseWorkflow(workflow, text);
  if (model.kind !== 'mapreduce') {
    throw new InputError(
      Inputs.workflow,
      workflow,
      'a MapReduce workflow (one with `mode: mapreduce`) to split into shards',
    );
  }
  pipeline(model, workflow, []);
  return model;
}

/**
 * Plans `request`'s shards. `maxShards` bounds them: GitHub's matrix limit for the `plan`
 * sub-action; the fan-out, which runs the shards itself, gives its own count (`max-parallel`,
 * bounded by the runtime in config/workload.ts).
 */
export async function makePlan(
  settings: Settings,
  request: ShardRequest,
  deps: PlanDeps,
  maxShards = MAX_SHARDS,
): Promise<PlannedRun> {
  const workload = settings.workload;
  if (workload.kind !== 'prodigy') {
    throw new InputError(Inputs.workflow, '', 'a MapReduce workflow file to plan');
  }
  const wf = await loadMapReduce(settings.workspace, workload.workflow);
  const base = await headCommit(settings.workspace);
  const dir = path.join(settings.runDir, 'plan');
  await mkdir(dir, { recursive: true });

  const inputPath = substitute(wf.map.input, wf.env);
  const localInput = path.resolve(settings.workspace, inputPath);
  const needsRun = wf.setup !== undefined || !isFile(localInput);
  const { source, captures, setupBundle }: PlanSource = !needsRun
    ? {
        source: await readLocalSource(settings.workspace, localInput, inputPath, deps),
        captures: {},
        setupBundle: false,
      }
    : await findItemsInWorkload(settings, wf, { base, dir, inputPath }, deps);

  const items = pipeline(wf, workload.workflow, source);
  const layout = layoutShards(items.length, request);
  if (layout.length > maxShards) {
    throw new InputError(
      'itemsPerShard' in request ? Inputs.itemsPerShard : Inputs.shards,
      String('itemsPerShard' in request ? request.itemsPerShard : request.shards),
      `at most ${maxShards} shards (GitHub's matrix limit); ${items.length} items would make ${layout.length}`,
    );
  }
  const plan: Plan = {
    format: PLAN_FORMAT,
    id: randomBytes(5).toString('hex'),
    workflow: workload.workflow,
    base,
    itemCount: items.length,
    shards: layout,
    captures,
    setupBundle,
  };
  await writePlan(dir, plan, items);
  return { plan, dir, items };
}

/** Where the work items come from, and what setup left for the shards. */
interface PlanSource {
  readonly source: JsonValue;
  readonly captures: Readonly<Record<string, string>>;
  readonly setupBundle: boolean;
}

/** The map.input file, read here: no container is needed to plan. */
async function readLocalSource(
  workspace: string,
  localInput: string,
  inputPath: string,
  deps: PlanDeps,
): Promise<JsonValue> {
  deps.note(`Work items come from ${inputPath}, read here: no container is needed to plan.`);
  const text = await readUntrustedText(localInput, {
    what: `the map.input file ${inputPath}`,
    maxBytes: ReadLimits.data,
    // Under the workspace, the pull request's code chose it: no linked folder either.
    ...(path.relative(workspace, localInput).startsWith('..') ? {} : { root: workspace }),
  });
  return itemsSourceFromFile(text, inputPath);
}

/**
 * Setup and map.input, run once by Prodigy in the workload: the work items' source, the
 * variables setup captured, and setup's commits bundled for the shards.
 */
async function findItemsInWorkload(
  settings: Settings,
  wf: MapReduceWorkflow,
  at: { readonly base: string; readonly dir: string; readonly inputPath: string },
  deps: PlanDeps,
): Promise<PlanSource> {
  const { base, dir, inputPath } = at;
  deps.note(
    wf.setup
      ? 'Running setup and map.input once, in the workload, to find the work items.'
      : `Running map.input once, in the workload, to find the work items: ${firstLine(wf.map.input)}`,
  );
  const exchange = await Exchange.fresh(settings, 'plan');
  for (const [name, content] of Object.entries(planScripts(exchange.seen))) {
    await exchange.write(name, content);
  }
  await exchange.write('plan.yml', planWorkflow(wf, { exchange: exchange.seen, base }));
  const outcome = await deps.run(exchange.running('plan.yml'));
  if (outcome.status !== 'succeeded') {
    throw new Error(
      `Setup and map.input, run once by Prodigy to find the work items, ${outcome.status === 'failed' ? 'failed' : `were ${outcome.status}`}: ${outcome.reason}`,
    );
  }
  const { source } = await readPlanSource(exchange.host, inputPath, deps);
  const captures = await readCaptures(exchange.host, captureNames(wf));
  let setupBundle = false;
  if (outcome.git && outcome.git.commits > 0) {
    setupBundle = await createBundle(
      settings.workspace,
      path.join(dir, PlanFileNames.setupBundle),
      base,
      outcome.git.branch,
    );
    if (setupBundle) deps.note(`Setup made ${outcome.git.commits} commit(s); the shards get them.`);
  }
  return { source, captures, setupBundle };
}

/** The plan written down: each shard's items, then plan.json. */
async function writePlan(dir: string, plan: Plan, items: readonly JsonValue[]): Promise<void> {
  for (const shard of plan.shards) {
    await writeFile(
      path.join(dir, PlanFileNames.items(shard.index)),
      stringifyJson(items.slice(shard.first, shard.first + shard.size)),
    );
  }
  await writeFile(path.join(dir, PlanFileNames.plan), JSON.stringify(plan, null, 2));
}

/** The pipeline over a source; errors point at the workflow key that Prodigy would refuse. */
function pipeline(wf: MapReduceWorkflow, file: string, source: JsonValue): JsonValue[] {
  try {
    return workItems(source, {
      jsonPath: wf.map.jsonPath,
      ...(wf.map.filter !== undefined ? { filter: wf.map.filter } : {}),
      ...(wf.map.sortBy !== undefined ? { sortBy: wf.map.sortBy } : {}),
      ...(wf.map.maxItems !== undefined ? { maxItems: wf.map.maxItems } : {}),
    });
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    const key = error.key.replace(/^map\./, '');
    const at = wf.map.positions[key === 'input' ? 'input' : key] ?? { line: 1, column: 1 };
    throw new WorkflowError(file, at.line, at.column, error.message);
  }
}

/** What the plan run left: a setup-generated work-items file, the input file, or its output. */
async function readPlanSource(
  exchange: string,
  input: string,
  deps: PlanDeps,
): Promise<{ source: JsonValue }> {
  const generated = (await readdir(path.join(exchange, PlanFiles.workItemsDir)).catch(() => []))
    .filter((name) => name.endsWith('work-items.json'))
    .sort();
  if (generated.length > 0) {
    if (generated.length > 1) {
      deps.note(
        `Setup made several work-items files (${generated.join(', ')}); Prodigy picks one of them at random, the plan takes ${generated[0]}.`,
      );
    }
    deps.note(`Setup generated ${generated[0]}: it replaces map.input, as in Prodigy.`);
    const file = path.join(exchange, PlanFiles.workItemsDir, generated[0]!);
    const text = await readUntrustedText(file, {
      what: 'the work-items file setup made',
      maxBytes: ReadLimits.data,
      root: exchange,
    });
    return { source: itemsSourceFromFile(text, generated[0]!) };
  }
  const read = (name: string, what: string, maxBytes: number) =>
    readUntrustedTextIfAny(path.join(exchange, name), { what, maxBytes, root: exchange });
  const copied = await read(PlanFiles.inputFile, 'the map.input file', ReadLimits.data);
  if (copied !== undefined) {
    return { source: itemsSourceFromFile(copied, input) };
  }
  const status = await read(PlanFiles.inputStatus, "map.input's exit status", ReadLimits.status);
  if (status === undefined) {
    throw new Error('Prodigy did not run map.input; the plan cannot tell which items to run');
  }
  if (status.trim() !== '0') {
    const stderr =
      (await read(PlanFiles.inputErr, "map.input's errors", ReadLimits.message).catch(
        () => undefined,
      )) ?? '';
    throw new Error(
      `map.input, run as a command, exited with status ${status.trim()}${stderr.trim() ? `: ${lastLines(stderr, 5)}` : ''}`,
    );
  }
  const stdout = await readUntrustedText(path.join(exchange, PlanFiles.inputOut), {
    what: "map.input's output",
    maxBytes: ReadLimits.data,
    root: exchange,
  });
  return { source: itemsSourceFromCommand(stdout) };
}

async function readCaptures(
  exchange: string,
  names: readonly string[],
): Promise<Record<string, string>> {
  const captures: Record<string, string> = {};
  for (const name of names) {
    const text = await readUntrustedTextIfAny(path.join(exchange, PlanFiles.capturesDir, name), {
      what: `the captured variable ${name}`,
      maxBytes: ReadLimits.capture,
      root: exchange,
    });
    // The heredoc adds one newline after the value.
    if (text !== undefined) captures[name] = text.endsWith('\n') ? text.slice(0, -1) : text;
  }
  return captures;
}

/** Prodigy replaces `${KEY}` and `$KEY` in map.input with the workflow's env values. */
function substitute(text: string, env: Readonly<Record<string, string>>): string {
  let result = text;
  for (const key of Object.keys(env).sort((a, b) => b.length - a.length)) {
    result = result.split(`\${${key}}`).join(env[key]!).split(`$${key}`).join(env[key]!);
  }
  return result;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]!;
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}
