/**
 * While a run with a Claude cap goes: what Claude used, read every BUDGET_WATCH_MS into the
 * step's budget (results/claude-budget.ts), until the total passes a cap.
 */
import type { ClaudeBudget, PassedLimit } from '../results/claude-budget.js';
import type { ClaudeUsage } from '../results/claude-records.js';

export const BUDGET_WATCH_MS = 2_000;

/** Resolves with the cap the step's total passed, or undefined once the signal stops it. */
export async function watchBudget(
  read: () => Promise<ClaudeUsage | undefined>,
  budget: ClaudeBudget,
  key: string,
  signal: AbortSignal,
  everyMs = BUDGET_WATCH_MS,
): Promise<PassedLimit | undefined> {
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (signal.aborted) break;
    // A reading that failed (a pod between states, a log being written) is taken again later.
    const usage = await read().catch(() => undefined);
    if (usage) budget.record(key, usage);
    const passed = budget.passed();
    if (passed) return passed;
  }
  return undefined;
}
