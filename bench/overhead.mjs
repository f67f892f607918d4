// The action's overhead against `docker run --rm` of the same image and command, in one run on
// this machine: time to the first line of output and wall time, median (and spread) of N runs.
// The main step runs in an empty workspace; the CLI in this checkout, a git repository, so its
// container gets a git folder of its own and the commits it made are looked for afterwards.
//
//   npm run bench            (brings up the test ground first)
//   BENCH_RUNS=15 npm run bench
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groundEnv } from './common.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 9);
const root = path.resolve(import.meta.dirname, '..');

/** Spawns a command; resolves with ms to the first stdout line equal to `marker` and ms to exit. */
function timeRun(command, args, env, marker) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstLine;
    let pending = '';
    child.stdout.on('data', (chunk) => {
      if (firstLine !== undefined) return;
      pending += chunk.toString();
      if (pending.split('\n').some((line) => line === marker)) firstLine = ms();
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}`));
      else if (firstLine === undefined) reject(new Error(`${command}: never printed ${marker}`));
      else resolve({ firstLine, total: ms() });
    });
  });
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const ground = groundEnv(root);
const image = ground.BUSYBOX_IMAGE;
const script = 'echo first-line; echo second-line';
const node = process.execPath;
const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: ground.DOCKER_HOST };

function actionEnv() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-bench-'));
  const files = {};
  for (const name of [
    'GITHUB_OUTPUT',
    'GITHUB_STATE',
    'GITHUB_STEP_SUMMARY',
    'GITHUB_ENV',
    'GITHUB_PATH',
  ]) {
    files[name] = path.join(dir, name.toLowerCase());
    writeFileSync(files[name], '');
  }
  return {
    ...baseEnv,
    ...files,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    INPUT_COMMAND: script,
    INPUT_IMAGE: image,
    'INPUT_PULL-POLICY': 'if-not-present',
    INPUT_RUNTIME: 'docker',
    INPUT_NETWORK: 'bridge',
    INPUT_SUMMARY: 'true',
    'INPUT_DRY-RUN': 'false',
  };
}

const subjects = {
  'docker run --rm': () =>
    timeRun('docker', ['run', '--rm', image, 'sh', '-c', script], baseEnv, 'first-line'),
  'cook-action (dist/main)': () =>
    timeRun(node, [path.join(root, 'dist/main/index.js')], actionEnv(), 'first-line'),
  'cook-action CLI (dist/cli), in this git checkout': () =>
    timeRun(
      node,
      [path.join(root, 'dist/cli/index.js'), '--command', script, '--image', image],
      { ...baseEnv, RUNNER_TEMP: mkdtempSync(path.join(os.tmpdir(), 'cook-bench-')) },
      'first-line',
    ),
};

const results = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
// Warm-up: the first run of each pays for the page cache.
for (const run of Object.values(subjects)) await run();
// Interleaved, so drift on the machine touches every subject alike.
for (let i = 0; i < runs; i++) {
  for (const [name, run] of Object.entries(subjects)) results[name].push(await run());
}

const baseline = results['docker run --rm'];
const baseFirst = stats(baseline.map((r) => r.firstLine)).median;
const baseTotal = stats(baseline.map((r) => r.total)).median;
console.log(`\n${runs} runs each, image ${image}, command: ${script}\n`);
console.log(
  '| subject | first line, median ms (min–max) | vs docker | wall time, median ms (min–max) | vs docker |',
);
console.log('|---|---|---|---|---|');
for (const [name, samples] of Object.entries(results)) {
  const first = stats(samples.map((r) => r.firstLine));
  const total = stats(samples.map((r) => r.total));
  const fmt = (s) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  const delta = (a, b) => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(0)} ms`;
  console.log(
    `| ${name} | ${fmt(first)} | ${delta(first.median, baseFirst)} | ${fmt(total)} | ${delta(total.median, baseTotal)} |`,
  );
}
