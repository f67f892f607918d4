// The Kubernetes runtime against kubectl on the test ground's cluster, in one run:
//   - time from the start to the Job existing (the action's preflight and objects included, vs
//     `kubectl create job`);
//   - latency from a line written in the container to the same line read by us (the CLI's
//     stdout, vs `kubectl logs -f`), median and 95th percentile over every line of every run.
// Lines carry the container's clock (GNU date, so the Prodigy image); the pod runs on this
// machine, so one clock serves both ends.
//
//   npm run bench            (brings up the test ground first)
//   BENCH_RUNS=5 node bench/kubernetes.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { groundEnv, percentile } from './common.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const lines = 40;
const root = path.resolve(import.meta.dirname, '..');
const ground = groundEnv(root);
const image = ground.PRODIGY_IMAGE;
const kubectl = (...args) =>
  execFileSync(ground.KUBECTL, ['--kubeconfig', ground.KUBECONFIG, ...args], { encoding: 'utf8' });
const script = `sleep 2; for i in $(seq 1 ${lines}); do echo "tick $(date +%s%N)"; sleep 0.05; done`;
const nowMs = () => performance.timeOrigin + performance.now();

/** Runs a command; calls onLine(line, ms since start) for each line of stdout and stderr. */
function follow(command, args, env, onLine) {
  return new Promise((resolve, reject) => {
    const start = nowMs();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.on('data', (chunk) => {
        const at = nowMs();
        pending += chunk.toString();
        const parts = pending.split('\n');
        pending = parts.pop();
        for (const line of parts) onLine(line, at, at - start);
      });
    }
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

/** Latency of each `tick <ns>` line: arrival (epoch ms) minus the container's own clock. */
function tickLatency(line, at) {
  const match = /^tick (\d+)$/.exec(line);
  return match ? at - Number(BigInt(match[1]) / 1000n) / 1000 : undefined;
}

async function action() {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'cook-bench-k8s-'));
  const latencies = [];
  let created;
  const code = await follow(
    process.execPath,
    [
      path.join(root, 'dist/cli/index.js'),
      '--runtime',
      'kubernetes',
      '--kubeconfig-path',
      ground.KUBECONFIG,
      '--image',
      image,
      '--pull-policy',
      'never',
      '--workspace',
      workspace,
      '--command',
      script,
    ],
    { PATH: process.env.PATH, HOME: process.env.HOME, RUNNER_TEMP: workspace },
    (line, at, sinceStart) => {
      if (created === undefined && line.startsWith('Created Job ')) created = sinceStart;
      const latency = tickLatency(line, at);
      if (latency !== undefined) latencies.push(latency);
    },
  );
  if (code !== 0 || created === undefined || latencies.length !== lines)
    throw new Error(`the action's run failed (exit ${code}, ${latencies.length} lines)`);
  return { created, latencies };
}

async function baseline(index) {
  const name = `bench-kubectl-${process.pid}-${index}`;
  const start = nowMs();
  kubectl('create', 'job', name, `--image=${image}`, '--', 'sh', '-c', script);
  const created = nowMs() - start;
  // The pull policy of `kubectl create job` is the default (IfNotPresent for a tagged image).
  const latencies = [];
  try {
    // `kubectl logs -f` refuses a container that is still being created.
    kubectl('wait', '--for=condition=Ready', 'pod', '-l', `job-name=${name}`, '--timeout=60s');
    const code = await follow(
      ground.KUBECTL,
      ['--kubeconfig', ground.KUBECONFIG, 'logs', '-f', `job/${name}`, '--pod-running-timeout=60s'],
      process.env,
      (line, at) => {
        const latency = tickLatency(line, at);
        if (latency !== undefined) latencies.push(latency);
      },
    );
    if (code !== 0 || latencies.length !== lines)
      throw new Error(`kubectl logs failed (exit ${code}, ${latencies.length} lines)`);
  } finally {
    kubectl('delete', 'job', name, '--cascade=foreground', '--wait=false');
  }
  return { created, latencies };
}

const results = { 'kubectl create job + logs -f': [], 'cook-action CLI (dist/cli)': [] };
await action(); // warm-up: page cache, connections
for (let i = 0; i < runs; i++) {
  results['kubectl create job + logs -f'].push(await baseline(i));
  results['cook-action CLI (dist/cli)'].push(await action());
}

console.log(
  `\n${runs} runs each on the test cluster, image ${image}, ${lines} lines 50 ms apart\n`,
);
console.log(
  '| subject | start → Job created, median ms (min–max) | line latency p50 ms | line latency p95 ms |',
);
console.log('|---|---|---|---|');
for (const [name, samples] of Object.entries(results)) {
  const created = samples.map((s) => s.created);
  const latencies = samples.flatMap((s) => s.latencies);
  console.log(
    `| ${name} | ${percentile(created, 50).toFixed(0)} (${Math.min(...created).toFixed(0)}–${Math.max(...created).toFixed(0)}) | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 95).toFixed(1)} |`,
  );
}
