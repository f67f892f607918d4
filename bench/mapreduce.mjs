// MapReduce split across shards against Prodigy alone, in one run, on Docker and on the cluster:
// a workflow of BENCH_ITEMS items (200) whose one step is a BENCH_STEP_SECONDS (2) shell sleep,
// for each N in BENCH_SHARDS (8,16), BENCH_REPEAT (3) times each, the two taking turns:
//   - cook-action --max-parallel N: N shards at once (N containers, or one Indexed Job of N
//     indexes), each running its items one at a time (max_parallel: 1), then reduce;
//   - prodigy run alone in one container (a Job on the cluster) with max_parallel: N.
// Wall time from start to end of each, the whole command included (image start, plan, reduce);
// the median of the repeats, and the slowest.
//
//   node bench/mapreduce.mjs
//   BENCH_ITEMS=40 BENCH_SHARDS=1,4 BENCH_REPEAT=1 BENCH_RUNTIMES=docker node bench/mapreduce.mjs
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { groundEnv, mapReduceCheckout } from './common.mjs';

const items = Number(process.env.BENCH_ITEMS ?? 200);
const stepSeconds = Number(process.env.BENCH_STEP_SECONDS ?? 2);
const shardCounts = (process.env.BENCH_SHARDS ?? '8,16').split(',').map(Number);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const figure = (runs) => {
  const seconds = runs.map((run) => run.seconds);
  return `${median(seconds).toFixed(1)} s (${Math.max(...seconds).toFixed(1)})`;
};

const rows = [];
for (const runtime of runtimes) {
  for (const n of shardCounts) {
    const sharded = [];
    const alone = [];
    for (let i = 0; i < repeat; i++) {
      sharded.push(
        timed([
          '--workflow',
          'bench.yml',
          '--workspace',
          checkout(1),
          '--max-parallel',
          String(n),
          ...runtimeFlags(runtime),
        ]),
      );
      alone.push(
        timed(['--workflow', 'bench.yml', '--workspace', checkout(n), ...runtimeFlags(runtime)]),
      );
      process.stderr.write(
        `${runtime} N=${n}: cook-action max-parallel ${sharded.at(-1).seconds.toFixed(1)} s (${sharded.at(-1).summary}); prodigy alone max_parallel ${alone.at(-1).seconds.toFixed(1)} s (${alone.at(-1).summary})\n`,
      );
    }
    rows.push({ runtime, n, sharded, alone });
  }
}

console.log(
  `\n${items} items, one ${stepSeconds} s shell step each (ideal: ${items * stepSeconds} s / N); median of ${repeat} runs (slowest)\n`,
);
console.log(
  '| runtime | N | cook-action, N shards × 1 agent | prodigy alone, 1 container × N agents | ideal |',
);
console.log('|---|---|---|---|---|');
for (const { runtime, n, sharded, alone } of rows) {
  console.log(
    `| ${runtime} | ${n} | ${figure(sharded)} | ${figure(alone)} | ${((items * stepSeconds) / n).toFixed(0)} s |`,
  );
}
