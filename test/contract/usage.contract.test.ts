/**
 * What a run used and how long its phases took, as the real engines count them: the workload
 * container's own cgroup counters, brought back in a file of the stopped container (Docker) or
 * its termination message (Kubernetes). The workload counts in a loop for one to two seconds,
 * then holds 48 MiB for two.
 */
import { describe, expect, it } from 'vitest';
import type { InputName } from '../../src/config/names.js';
import { metrics } from '../../src/report/outputs.js';
import { cookWith } from '../support/cook.js';
import { ground } from '../support/ground.js';
import { tempWorkspace } from '../support/workspace.js';

const g = ground();
const MiB = 1024 * 1024;

/** Counts in a shell loop for one to two seconds, then keeps 48 MiB for two. */
const WORKLOAD = [
  'start=$(date +%s); i=0',
  'while [ $(( $(date +%s) - start )) -lt 2 ]; do i=$((i+1)); done',
  'echo "counted to $i"',
  // tail keeps the whole line in memory while sleep, which never reads, holds it blocked.
  'head -c 48m /dev/zero | tail | sleep 2',
  'echo done',
].join('\n');

const targets: Record<'docker' | 'kubernetes', Partial<Record<InputName, string>>> = {
  docker: { runtime: 'docker' },
  kubernetes: {
    runtime: 'kubernetes',
    'kubeconfig-path': g.kubeconfig,
    namespace: 'default',
  },
};

describe.each(['docker', 'kubernetes'] as const)('resource usage on %s', (runtime) => {
  it('reports CPU seconds, peak memory, network and I/O, and every phase', async () => {
    const { outcome, shown } = await cookWith(
      {
        ...targets[runtime],
        image: g.busyboxImage,
        'pull-policy': 'never',
        command: WORKLOAD,
      },
      { workspace: tempWorkspace() },
    );
    expect(outcome.status, shown.join('\n')).toBe('succeeded');
    const usage = outcome.usage;
    expect(usage?.source).toBe('cgroup');
    // The loop ran about two seconds of wall time on a core of its own (or shared on two).
    expect(usage?.cpuSeconds).toBeGreaterThan(0.7);
    expect(usage?.cpuSeconds).toBeLessThan(outcome.durationSeconds + 1);
    expect(usage?.memoryPeakBytes).toBeGreaterThan(48 * MiB);
    expect(usage?.memoryPeakBytes).toBeLessThan(120 * MiB);
    expect(usage?.networkRxBytes).toBeTypeOf('number');
    expect(usage?.networkTxBytes).toBeTypeOf('number');
    expect(usage?.blockReadBytes).toBeTypeOf('number');
    expect(usage?.blockWriteBytes).toBeTypeOf('number');

    const phases = outcome.phases ?? {};
    expect(phases.run_seconds).toBeGreaterThan(2.5);
    expect(phases.run_seconds).toBeLessThan(outcome.durationSeconds);
    expect(phases.start_seconds).toBeGreaterThanOrEqual(0);
    expect(phases.pull_seconds).toBeGreaterThanOrEqual(0);
    expect(phases.cleanup_seconds).toBeGreaterThanOrEqual(0);
    if (runtime === 'kubernetes') expect(phases.schedule_seconds).toBeGreaterThanOrEqual(0);

    const reported = metrics(outcome);
    expect(reported.cpu_seconds).toBeCloseTo(usage!.cpuSeconds!, 2);
    expect(reported.memory_peak_bytes).toBe(usage!.memoryPeakBytes);
    expect(reported.usage_source).toBe(usage!.source);
    expect(reported.run_seconds).toBeGreaterThan(2.5);
  });

  if (runtime === 'docker') {
    it("falls back to Docker's stats when the workload is killed before it can count", async () => {
      const { outcome } = await cookWith(
        {
          ...targets.docker,
          image: g.busyboxImage,
          'pull-policy': 'never',
          // Deaf to SIGTERM: the cancellation ends in SIGKILL, which leaves no counters behind.
          command: 'trap "" TERM; i=0; while :; do i=$((i+1)); done',
        },
        { workspace: tempWorkspace(), cancelAfterMs: 4000 },
      );
      expect(outcome.status).toBe('cancelled');
      expect(outcome.usage?.source).toBe('docker-stats');
      expect(outcome.usage?.cpuSeconds).toBeGreaterThan(0.5);
      expect(outcome.usage?.memoryPeakBytes).toBeGreaterThan(0);
    });
  }

  it('still names an out-of-memory kill, with exit code 137', async () => {
    const { outcome, shown } = await cookWith(
      {
        ...targets[runtime],
        image: g.busyboxImage,
        'pull-policy': 'never',
        memory: '32Mi',
        command: 'head -c 200m /dev/zero | tail > /dev/null',
      },
      { workspace: tempWorkspace() },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(137);
    expect(outcome.oomKilled).toBe(true);
    // Killed at the limit: that is the peak, whether or not anything counted it.
    expect(['cgroup', 'docker-stats', 'oom-kill'], shown.join('\n')).toContain(
      outcome.usage?.source,
    );
    expect(outcome.usage?.memoryPeakBytes).toBeGreaterThan(30 * MiB);
    expect(outcome.usage?.memoryPeakBytes).toBeLessThanOrEqual(32 * MiB + MiB);
  });
});
