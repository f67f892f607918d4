// What the benchmarks share: the test ground's KEY=VALUE facts, percentiles, a MapReduce
// checkout, and a preload that reports a child's peak RSS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The ground's facts: from the environment when exported (scripts/test.sh), else `ground up`. */
export function groundEnv(root) {
  if (process.env.DOCKER_HOST && process.env.BUSYBOX_IMAGE && process.env.KUBECONFIG)
    return process.env;
  const out = execFileSync('bash', [path.join(root, 'test/ground/ground.sh'), 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return Object.fromEntries(
    out
      .split('\n')
      .map((line) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
}

/** The p-th percentile (nearest rank) of some numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * A git checkout holding `items` items and `<name>.yml`, a MapReduce workflow whose one step
 * sleeps `stepSeconds`, `maxParallel` agents at once.
 */
export function mapReduceCheckout({ name, items, stepSeconds, maxParallel }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `cook-bench-${name}-`));
  const list = Array.from({ length: items }, (_, n) => ({ n }));
  writeFileSync(path.join(dir, 'items.json'), JSON.stringify(list));
  writeFileSync(
    path.join(dir, `${name}.yml`),
    [
      `name: ${name}`,
      'mode: mapreduce',
      'map:',
      '  input: items.json',
      `  max_parallel: ${maxParallel}`,
      '  agent_template:',
      `    - shell: "sleep ${stepSeconds}"`,
      'reduce:',
      '  - shell: "echo ${map.successful} of ${map.total}"',
      'merge:',
      '  - shell: "git -C \\"$(git rev-parse --path-format=absolute --git-common-dir)/..\\" merge --no-edit ${merge.source_branch}"',
      '',
    ].join('\n'),
  );
  const identity = {
    GIT_AUTHOR_NAME: 'b',
    GIT_AUTHOR_EMAIL: 'b@b',
    GIT_COMMITTER_NAME: 'b',
    GIT_COMMITTER_EMAIL: 'b@b',
  };
  const git = (...args) =>
    execFileSync('git', ['-C', dir, ...args], {
      env: { ...process.env, ...identity },
      stdio: 'ignore',
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', name);
  return dir;
}

/**
 * A preload (`node --import <it>`) that writes the process's peak resident set, in KiB, to the
 * file named by BENCH_RSS_FILE as it exits.
 */
export function rssPreload(dir) {
  const file = path.join(dir, 'rss.mjs');
  writeFileSync(
    file,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  return file;
}
