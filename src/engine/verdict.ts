/**
 * How a run came out, from the engine's account of it (ARCHITECTURE.md, rule 1): the status and a
 * sentence saying why, the memory peak of a workload killed for memory, and the step's Claude caps.
 */
import type { RunStatus } from './outcome.js';
import type { ClaudeBudget } from '../results/claude-budget.js';
import type { ExitStatus, ResourceUsage } from '../runtime/types.js';

/** The engine's exit status → status and a sentence saying why. */
export function judge(
  exit: ExitStatus | undefined,
  memoryLimit: string | undefined,
): { status: RunStatus; reason: string } {
  if (exit?.timedOut) {
    return {
      status: 'timed-out',
      reason: `the engine stopped the run at its deadline (${exit.error ?? 'timed out'})`,
    };
  }
  if (!exit || exit.exitCode === undefined) {
    return {
      status: 'failed',
      reason: `the engine reported no exit code${exit?.error ? ` (${exit.error})` : ''}`,
    };
  }
  if (exit.oomKilled) {
    return {
      status: 'failed',
      reason: `killed for running out of memory (OOMKilled${memoryLimit ? `, limit ${memoryLimit}` : ''}), exit code ${exit.exitCode}`,
    };
  }
  if (exit.exitCode === 0 && exit.resultsError) {
    return {
      status: 'failed',
      reason: `exit code 0, but what the run made did not come back: ${exit.resultsError}`,
    };
  }
  if (exit.exitCode === 0) return { status: 'succeeded', reason: 'exit code 0' };
  return {
    status: 'failed',
    reason: `exit code ${exit.exitCode}${exit.error ? ` (${exit.error})` : ''}`,
  };
}

/**
 * A workload killed for memory reached its limit, whether or not a counter or a sample caught
 * the peak (the kill can take the counting shell with it): the peak is at least the limit.
 */
export function peakAtLimit(
  usage: ResourceUsage | undefined,
  exit: ExitStatus | undefined,
  limitBytes: number | undefined,
): ResourceUsage | undefined {
  if (!exit?.oomKilled || !limitBytes) return usage;
  return {
    ...(usage ?? { source: 'oom-kill' }),
    memoryPeakBytes: Math.max(usage?.memoryPeakBytes ?? 0, limitBytes),
  };
}

/**
 * A run that ended past a cap fails, whatever its exit said; one that failed once a cap was
 * reached was stopped by Claude's own limit, and says so.
 */
export function heldToLimits(
  budget: ClaudeBudget,
  status: RunStatus,
  reason: string,
): { status: RunStatus; reason: string } {
  const passed = budget.passed();
  if (status === 'succeeded' && passed) {
    return { status: 'failed', reason: `${passed.message}, before the run could be stopped` };
  }
  const reached = budget.reached();
  if (status === 'failed' && reached) {
    return { status, reason: `${reason}; ${reached.message} (Claude stops a session there)` };
  }
  return { status, reason };
}
