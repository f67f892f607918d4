// MapReduce split across shards against Prodigy alone, in one run, on Docker and on the cluster:
// a workflow of BENCH_ITEMS items (200) whose one step is a BENCH_STEP_SECONDS (2) shell sleep,
// for each N in BENCH_SHARDS (1,4,16):
//   - cook-action --max-parallel N: N shards at once (N containers, or one Indexed Job of N
//     indexes), each running its items one at a time (max_parallel: 1), then reduce;
//   - prodigy run alone in one container (a Job on the cluster) with max_parallel: N.
// Wall time from start to end of each, the whole command included (image start, plan, reduce).
//
//   node bench/mapreduce.mjs
//   BENCH_ITEMS=40 BENCH_SHARDS=1,4 BENCH_RUNTIMES=docker node bench/mapreduce.mjs
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { groundEnv, mapReduceCheckout } from './common.mjs';

const items = Number(process.env.BENCH_ITEMS ?? 200);
const stepSeconds = Number(process.env.BENCH_STEP_SECONDS ?? 2);
const shardCounts = (process.env.BENCH_SHARDS ?? '1,4,16').split(',').map(Number);
const runtimes = (process.env.BENCH_RUNTIMES ?? 'docker,kubernetes').split(',');
const root = path.resolve(import.meta.dirname, '..');
const ground = groundEnv(root);
const env = { ...process.env, ...ground };
const cli = path.join(root, 'dist/cli/index.js');

/** A checkout holding the items and the workflow with the given max_parallel. */
function checkout(maxParallel) {
  return mapReduceCheckout({ name: 'bench', items, stepSeconds, maxParallel });
}

function runtimeFlags(runtime) {
  const flags = ['--image', ground.PRODIGY_IMAGE, '--pull-policy', 'never'];
  return runtime === 'kubernetes'
    ? [...flags, '--runtime', 'kubernetes', '--kubeconfig-path', ground.KUBECONFIG]
    : flags;
}

function timed(args) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) {
    process.stderr.write(run.stderr.split('\n').slice(-15).join('\n'));
    throw new Error(`cook-action ${args.join(' ')} exited ${run.status}`);
  }
  // The last count printed: the reduce's, over every shard.
  const summary = [...(run.stdout + run.stderr).matchAll(/(\d+) successful, (\d+) failed/g)].at(-1);
  return { seconds, summary: summary ? `${summary[1]} ok, ${summary[2]} failed` : '?' };
}

const rows = [];
for (const runtime of runtimes) {
  for (const n of shardCounts) {
    const sharded = timed([
      '--workflow',
      'bench.yml',
      '--workspace',
      checkout(1),
      '--max-parallel',
      String(n),
      ...runtimeFlags(runtime),
    ]);
    const alone = timed([
      '--workflow',
      'bench.yml',
      '--workspace',
      checkout(n),
      ...runtimeFlags(runtime),
    ]);
    rows.push({ runtime, n, sharded, alone });
    process.stderr.write(
      `${runtime} N=${n}: cook-action max-parallel ${sharded.seconds.toFixed(1)} s (${sharded.summary}); prodigy alone max_parallel ${alone.seconds.toFixed(1)} s (${alone.summary})\n`,
    );
  }
}

console.log(
  `\n${items} items, one ${stepSeconds} s shell step each (ideal: ${items * stepSeconds} s / N)\n`,
);
console.log(
  '| runtime | N | cook-action, N shards × 1 agent | prodigy alone, 1 container × N agents | ideal |',
);
console.log('|---|---|---|---|---|');
for (const { runtime, n, sharded, alone } of rows) {
  console.log(
    `| ${runtime} | ${n} | ${sharded.seconds.toFixed(1)} s | ${alone.seconds.toFixed(1)} s | ${((items * stepSeconds) / n).toFixed(0)} s |`,
  );
}
