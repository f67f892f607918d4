/** What runs: a Prodigy workflow or a command, its Claude's caps, and its split into shards. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';
import { Inputs, type InputName } from './names.js';
import { parseArgs, parseBoolean } from './parse.js';
import type { RuntimeKind } from './settings.js';
import { parseShardEntry, type ShardEntry } from './shard.js';
import { isMapReduceText } from '../workflow/model.js';

/** What runs: Prodigy on a workflow, or a shell command. */
export type Workload =
  | {
      readonly kind: 'prodigy';
      /** Workspace-relative path of the workflow file, with forward slashes. */
      readonly workflow: string;
      readonly args: readonly string[];
      /**
       * Run a workflow cook-action derived from `workflow` instead (a plan, a shard, a reduce):
       * `file` inside the host folder `exchange`, which the workload sees and can write to.
       */
      readonly derived?: { readonly exchange: string; readonly file: string };
      /** Merge Prodigy's session with plain git when the workflow has no `merge:` of its own. */
      readonly gitMerge: boolean;
    }
  | { readonly kind: 'command'; readonly command: string; readonly workflow?: string };

/** Caps on what a step's Claude sessions use in all (results/claude-budget.ts enforces them). */
export interface ClaudeLimits {
  /** The most Claude's sessions may cost, in US dollars, as Claude prices them. */
  readonly maxCostUsd?: number;
  /** The most turns (answers of the API) Claude's sessions may take. */
  readonly maxTurns?: number;
}

/** `workflow`, `command`, `args`, `git-merge` and `verbosity`: the workload in the workspace. */
export function readWorkload(input: (name: InputName) => string, workspace: string): Workload {
  return resolveWorkload(
    input(Inputs.workflow).trim(),
    input(Inputs.command),
    input(Inputs.args),
    workspace,
    {
      gitMerge: parseBoolean(Inputs.gitMerge, input(Inputs.gitMerge), false),
      verbosity: parseVerbosity(input(Inputs.verbosity)),
    },
  );
}

/** `max-cost-usd` and `max-turns`: caps on what the step's Claude sessions use in all. */
export function parseClaudeLimits(
  input: (name: InputName) => string,
  workload: Workload,
): ClaudeLimits | undefined {
  const rawCost = input(Inputs.maxCostUsd).trim();
  const rawTurns = input(Inputs.maxTurns).trim();
  if (rawCost === '' && rawTurns === '') return undefined;
  const limits: { maxCostUsd?: number; maxTurns?: number } = {};
  if (rawCost !== '') {
    const cost = /^(\d+(\.\d*)?|\.\d+)$/.test(rawCost) ? Number(rawCost) : NaN;
    if (!(cost > 0)) {
      throw new InputError(
        Inputs.maxCostUsd,
        rawCost,
        'a number of US dollars above 0, such as 5 or 0.50 (what Claude may cost in all)',
      );
    }
    limits.maxCostUsd = cost;
  }
  if (rawTurns !== '') {
    if (
      !/^\d+$/.test(rawTurns) ||
      Number(rawTurns) < 1 ||
      !Number.isSafeInteger(Number(rawTurns))
    ) {
      throw new InputError(
        Inputs.maxTurns,
        rawTurns,
        "a whole number of Claude's turns from 1 up (what Claude may take in all)",
      );
    }
    limits.maxTurns = Number(rawTurns);
  }
  if (workload.kind !== 'prodigy') {
    const name = rawCost !== '' ? Inputs.maxCostUsd : Inputs.maxTurns;
    throw new InputError(
      name,
      undefined,
      `it caps the Claude of a Prodigy workflow ('${Inputs.workflow}'), and a '${Inputs.command}' runs none the action can count`,
    );
  }
  return limits;
}

/** `verbosity`: how many `-v` Prodigy gets (1 shows the workflow's shell output). */
function parseVerbosity(raw: string): number {
  const text = raw.trim();
  if (text === '') return 0;
  if (/^[0-3]$/.test(text)) return Number(text);
  throw new InputError(
    Inputs.verbosity,
    raw,
    "0 (Prodigy's own progress), 1 (also every step's output, and Prodigy's debug lines), 2 or 3 (tracing)",
  );
}

function resolveWorkload(
  workflow: string,
  command: string,
  rawArgs: string,
  workspace: string,
  prodigy: { readonly gitMerge: boolean; readonly verbosity: number },
): Workload {
  let relative: string | undefined;
  if (workflow !== '') {
    const absolute = path.resolve(workspace, workflow);
    relative = path.relative(workspace, absolute);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new InputError(Inputs.workflow, workflow, `a file inside the workspace (${workspace})`);
    }
    if (!existsSync(absolute) || !statSync(absolute).isFile()) {
      throw new InputError(
        Inputs.workflow,
        workflow,
        `a Prodigy workflow file, relative to the workspace (${workspace}); no such file`,
      );
    }
    relative = relative.split(path.sep).join('/');
  }
  if (command.trim() !== '') {
    return { kind: 'command', command, ...(relative ? { workflow: relative } : {}) };
  }
  if (relative === undefined) {
    throw new InputError(
      Inputs.workflow,
      '',
      `a workflow file to run with Prodigy, or a '${Inputs.command}' to run instead`,
    );
  }
  if (!existsSync(path.join(workspace, '.git'))) {
    throw new InputError(
      Inputs.workspace,
      workspace,
      'a git checkout: Prodigy runs workflows in a git repository (check the repository out first)',
    );
  }
  const verbose = prodigy.verbosity > 0 ? [`-${'v'.repeat(prodigy.verbosity)}`] : [];
  return {
    kind: 'prodigy',
    workflow: relative,
    args: [...parseArgs(Inputs.args, rawArgs), ...verbose],
    gitMerge: prodigy.gitMerge,
  };
}

/**
 * The most shards `max-parallel` runs at once, by runtime. On Docker and the local runtime each
 * shard is a container or a process on the runner itself. On Kubernetes the shards are one
 * Indexed Job (completions and parallelism both the shard count, with backoffLimitPerIndex and
 * no maxFailedIndexes): the Job API refuses a parallelism above 100,000 in Indexed mode, and
 * completions above 100,000 with backoffLimitPerIndex unless maxFailedIndexes is set. The
 * contract tests hold the cluster's API server to this number.
 */
export const MAX_PARALLEL: Readonly<Record<RuntimeKind, number>> = {
  docker: 256,
  local: 256,
  kubernetes: 100_000,
};

/** What `max-parallel` accepts on `runtime`, and on the others. */
function parallelAccepted(runtime: RuntimeKind): string {
  const on = (r: RuntimeKind) => `1 to ${MAX_PARALLEL[r]} with runtime '${r}'`;
  if (runtime === 'kubernetes')
    return `a whole number of shards from ${on(runtime)} (the Job API's most for the Indexed Job they share)`;
  return `a whole number of shards from ${on(runtime)}, each a ${runtime === 'docker' ? 'container' : 'process'} on this runner (${on('kubernetes')})`;
}

/** `shard` or `max-parallel`: either one, for a MapReduce workflow run by Prodigy. */
export function splitting(
  input: (name: InputName) => string,
  workload: Workload,
  workspace: string,
  runtime: RuntimeKind,
): { shard?: ShardEntry; maxParallel?: number } {
  const rawShard = input(Inputs.shard).trim();
  const rawParallel = input(Inputs.maxParallel).trim();
  if (rawShard === '' && rawParallel === '') return {};
  const name = rawShard !== '' ? Inputs.shard : Inputs.maxParallel;
  const shown = name === Inputs.shard ? rawShard.slice(0, 80) : rawParallel;
  if (rawShard !== '' && rawParallel !== '') {
    throw new InputError(
      Inputs.maxParallel,
      rawParallel,
      `nothing when '${Inputs.shard}' is given: a shard from a plan runs on its own`,
    );
  }
  if (workload.kind !== 'prodigy') {
    throw new InputError(
      name,
      shown,
      `a '${Inputs.workflow}' to split (a MapReduce workflow run by Prodigy), not a '${Inputs.command}'`,
    );
  }
  const text = readFileSync(path.join(workspace, workload.workflow), 'utf8');
  if (!isMapReduceText(text)) {
    throw new InputError(
      name,
      shown,
      `a MapReduce workflow to split; ${workload.workflow} is a standard workflow (no 'mode: mapreduce')`,
    );
  }
  if (rawShard !== '') {
    const shard = parseShardEntry(rawShard);
    if (shard.workflow !== workload.workflow) {
      throw new InputError(
        Inputs.shard,
        shard.name,
        `a shard planned for this workflow; it was planned for ${shard.workflow}, and '${Inputs.workflow}' is ${workload.workflow}`,
      );
    }
    return { shard };
  }
  const count = Number(rawParallel);
  if (!/^\d+$/.test(rawParallel) || count < 1 || count > MAX_PARALLEL[runtime]) {
    throw new InputError(Inputs.maxParallel, rawParallel, parallelAccepted(runtime));
  }
  return { maxParallel: count };
}
