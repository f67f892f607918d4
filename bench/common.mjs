// What the benchmarks share: the test ground's KEY=VALUE facts, and percentiles.
import { execFileSync } from 'node:child_process';
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
