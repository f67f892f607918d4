/**
 * The plan → shards → reduce flow through the code a user's inputs take (buildSettings, then the
 * same functions the sub-actions call), each step in a checkout of its own, as matrix jobs have.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InputName } from '../../src/config/names.js';
import { readShardRequest } from '../../src/config/mapreduce.js';
import { buildSettings, type Settings } from '../../src/config/settings.js';
import { Masker } from '../../src/logs/masker.js';
import { planMatrix, type Matrix } from '../../src/mapreduce/matrix.js';
import { makePlan, type PlannedRun } from '../../src/mapreduce/plan.js';
import { runReduce, type ReduceRun } from '../../src/mapreduce/reduce.js';
import { runShard, type ShardRun } from '../../src/mapreduce/shard.js';
import { runLogged } from '../../src/run.js';
import { Capture } from './capture.js';

type Inputs = Partial<Record<InputName, string>>;

function settingsFor(inputs: Inputs, workspace: string, masker: Masker): Settings {
  return buildSettings(
    (name) => inputs[name] ?? '',
    {
      ...process.env,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: mkdtempSync(path.join(os.tmpdir(), 'cook-runner-')),
    },
    { onSecret: (value) => masker.add(value) },
  );
}

function deps(masker: Masker, out: Capture) {
  return {
    run: (s: Settings) =>
      runLogged(s, masker, { signal: new AbortController().signal, stdout: out, stderr: out }),
    note: (message: string) => out.write(`${message}\n`),
  };
}

/** A clone of the checkout, as a new job's actions/checkout would make it. */
export function cloneCheckout(workspace: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-job-'));
  execFileSync('git', ['clone', '-q', workspace, dir]);
  return dir;
}

export async function plan(
  inputs: Inputs,
  workspace: string,
): Promise<{ planned: PlannedRun; matrix: Matrix; shown: string[] }> {
  const masker = new Masker();
  const out = new Capture();
  const settings = settingsFor(inputs, workspace, masker);
  const planned = await makePlan(
    settings,
    readShardRequest((n) => inputs[n] ?? ''),
    deps(masker, out),
  );
  return { planned, matrix: planMatrix(planned, undefined).matrix, shown: out.lines };
}

export async function shard(
  inputs: Inputs,
  workspace: string,
): Promise<ShardRun & { shown: string[] }> {
  const masker = new Masker();
  const out = new Capture();
  const settings = settingsFor(inputs, workspace, masker);
  if (!settings.shard) throw new Error('give the shard input');
  const run = await runShard(settings, settings.shard, deps(masker, out));
  return { ...run, shown: out.lines };
}

export async function reduce(
  inputs: Inputs,
  workspace: string,
  results: readonly string[],
): Promise<ReduceRun & { shown: string[] }> {
  const masker = new Masker();
  const out = new Capture();
  const settings = settingsFor(inputs, workspace, masker);
  const run = await runReduce(settings, results, deps(masker, out));
  return { ...run, shown: out.lines };
}
