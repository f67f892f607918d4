// What the bundle costs before and while it works, against bare Node in the same run:
//   - start: `cook-action --help` (load the bundle, parse the arguments, print), wall time and
//     peak RSS, against `node -e ''`;
//   - relay: a Docker run that prints BENCH_RELAY_MB (1024) MB of output, the CLI's peak RSS and
//     wall time, against `docker run --rm` of the same command with its output thrown away.
// Peak RSS is the child's own getrusage maxrss, reported by a preload as it exits.
//
//   npm run bench            (brings up the test ground first)
//   BENCH_RUNS=15 BENCH_RELAY_MB=256 node bench/startup.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { groundEnv, percentile, rssPreload } from './common.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 9);
const relayMb = Number(process.env.BENCH_RELAY_MB ?? 1024);
const root = path.resolve(import.meta.dirname, '..');
const ground = groundEnv(root);
const node = process.execPath;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'cook-bench-start-'));
const preload = rssPreload(scratch);

/** Runs a command to its end, its output discarded; wall ms, and peak RSS MiB when measured. */
function measure(command, args, env) {
  const rssFile = path.join(scratch, `rss-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {
      env: { ...env, BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - start;
      if (code !== 0)
        return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
      let rss;
      try {
        rss = Number(readFileSync(rssFile, 'utf8')) / 1024;
      } catch {
        rss = undefined;
      }
      resolve({ ms, rss });
    });
  });
}

const env = { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: ground.DOCKER_HOST };
const withPreload = ['--import', preload];
const relay = `yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c ${relayMb * 1024 * 1024}`;
const cli = path.join(root, 'dist/cli/index.js');
const groups = {
  start: {
    "node -e ''": () => measure(node, [...withPreload, '-e', ''], env),
    'cook-action --help': () => measure(node, [...withPreload, cli, '--help'], env),
  },
  relay: {
    'docker run --rm': () =>
      measure('docker', ['run', '--rm', ground.BUSYBOX_IMAGE, 'sh', '-c', relay], env),
    'cook-action CLI (docker)': () =>
      measure(
        node,
        [
          ...withPreload,
          cli,
          '--command',
          relay,
          '--image',
          ground.BUSYBOX_IMAGE,
          '--pull-policy',
          'never',
        ],
        { ...env, RUNNER_TEMP: scratch },
      ),
  },
};

const table = (name, subjects, count) => {
  console.log(`\n### ${name} (median of ${count} runs; peak RSS is the highest seen)\n`);
  console.log('| subject | wall time, median ms (p90) | peak RSS, MiB |');
  console.log('|---|---|---|');
  for (const [subject, samples] of Object.entries(subjects)) {
    const ms = samples.map((s) => s.ms);
    const rss = samples.map((s) => s.rss).filter((v) => v !== undefined);
    const peak = rss.length ? Math.max(...rss).toFixed(0) : '—';
    console.log(
      `| ${subject} | ${percentile(ms, 50).toFixed(0)} (${percentile(ms, 90).toFixed(0)}) | ${peak} |`,
    );
  }
};

for (const [name, subjects] of Object.entries(groups)) {
  // The relay moves a gigabyte a run: fewer runs of it.
  const count = name === 'relay' ? Math.max(3, Math.ceil(runs / 3)) : runs;
  const results = Object.fromEntries(Object.keys(subjects).map((s) => [s, []]));
  for (const run of Object.values(subjects)) await run(); // warm-up
  for (let i = 0; i < count; i++) {
    for (const [subject, run] of Object.entries(subjects)) results[subject].push(await run());
  }
  table(name === 'start' ? 'Bundle start' : `Relaying ${relayMb} MB of output`, results, count);
}
