// Many shards at once on Docker, in one run: a workflow of BENCH_SCALE_SHARDS (200) items, one
// BENCH_STEP_SECONDS (2) shell step each, split into as many shards by `--max-parallel`, against
// the same number of `docker run --rm` of the Prodigy image started at once (the engine's own
// cost of that many containers). Reports wall time, the CLI's peak RSS, whether every shard's
// output arrived (each shard's lines, prefixed, ending with Prodigy's "Map phase completed"), and
// what was left on the engine.
//
//   npm run bench            (brings up the test ground first)
//   BENCH_SCALE_SHARDS=50 node bench/scale.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { groundEnv, mapReduceCheckout, rssPreload } from './common.mjs';

const shards = Number(process.env.BENCH_SCALE_SHARDS ?? 200);
const stepSeconds = Number(process.env.BENCH_STEP_SECONDS ?? 2);
const root = path.resolve(import.meta.dirname, '..');
const ground = groundEnv(root);
const env = { ...process.env, ...ground };
const scratch = mkdtempSync(path.join(os.tmpdir(), 'cook-bench-scale-'));
const preload = rssPreload(scratch);
const checkout = () =>
  mapReduceCheckout({ name: 'scale', items: shards, stepSeconds, maxParallel: 1 });

/** Runs to the end; wall seconds and the output. */
function run(command, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env: { ...env, ...extraEnv } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      resolve({ code, seconds: (performance.now() - started) / 1000, out }),
    );
  });
}

const leftovers = () =>
  execFileSync('docker', ['ps', '-aq', '--filter', 'label=io.prodigy.cook-action'], {
    env,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean).length;

// The engine alone: as many containers of the same image at once, each sleeping the step.
const engine = await run('sh', [
  '-c',
  `for i in $(seq 1 ${shards}); do docker run --rm ${ground.PRODIGY_IMAGE} sh -c 'sleep ${stepSeconds}' & done; wait`,
]);

const rssFile = path.join(scratch, 'rss');
const cook = await run(
  process.execPath,
  [
    '--import',
    preload,
    path.join(root, 'dist/cli/index.js'),
    '--workflow',
    'scale.yml',
    '--workspace',
    checkout(),
    '--max-parallel',
    String(shards),
    '--image',
    ground.PRODIGY_IMAGE,
    '--pull-policy',
    'never',
  ],
  { BENCH_RSS_FILE: rssFile, RUNNER_TEMP: scratch },
);
const rssMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
const lines = cook.out.split('\n');
const complete = Array.from({ length: shards }, (_, i) =>
  lines.some(
    (l) => l.startsWith(`[shard ${i + 1}/${shards}] `) && l.includes('Map phase completed'),
  ),
).filter(Boolean).length;
// The reduce's count over every shard, in the summary file the CLI names.
const summaryFile = /The summary is in (\S+)\.$/m.exec(cook.out)?.[1];
const summary = summaryFile
  ? /\*\*Items:\*\* (\d+) successful, (\d+) failed/.exec(readFileSync(summaryFile, 'utf8'))
  : undefined;

console.log(`\n### ${shards} shards at once on Docker (one ${stepSeconds} s item each)\n`);
console.log('| subject | wall time | peak RSS | shards whose output all arrived | left behind |');
console.log('|---|---|---|---|---|');
console.log(`| ${shards} × docker run --rm at once | ${engine.seconds.toFixed(1)} s | — | — | — |`);
console.log(
  `| cook-action --max-parallel ${shards} | ${cook.seconds.toFixed(1)} s | ${rssMiB.toFixed(0)} MiB | ${complete} of ${shards} | ${leftovers()} containers |`,
);
console.log(
  `\nexit ${cook.code}; items: ${summary ? `${summary[1]} successful, ${summary[2]} failed` : '?'}; ${lines.length} lines of output`,
);
if (cook.code !== 0) process.exitCode = 1;
