/**
 * What ends the wait for a run: the engine's verdict, a cancellation, the timeout (the action's
 * own timer, or a backstop behind an engine that enforces it), or a Claude cap passed.
 */
import type { PassedLimit } from '../results/claude-budget.js';
import type { ExitStatus, RunningWorkload } from '../runtime/types.js';

/** How long after its own deadline an engine that enforces timeouts gets to report one. */
export const ENGINE_TIMEOUT_BACKSTOP_MS = 180_000;

/**
 * The action's own timer: the timeout itself, or, when the engine enforces it (and then also
 * brings back what the run made), a backstop that only catches an engine that never does.
 */
export function ownTimeoutMs(
  timeoutMs: number | undefined,
  enforcedByEngine: boolean | undefined,
): number | undefined {
  if (timeoutMs === undefined) return undefined;
  return enforcedByEngine ? timeoutMs + ENGINE_TIMEOUT_BACKSTOP_MS : timeoutMs;
}

export type Verdict =
  | { readonly kind: 'exited'; readonly exit: ExitStatus }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'over-limit'; readonly passed: PassedLimit };

/** Resolves with whichever comes first; leaves no timer or listener behind. */
export async function raceVerdict(
  workload: Pick<RunningWorkload, 'wait'>,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  limit?: Promise<PassedLimit | undefined>,
): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const never = new Promise<never>(() => {});
  try {
    return await Promise.race<Verdict>([
      workload.wait().then((exit) => ({ kind: 'exited', exit })),
      new Promise<Verdict>((resolve) => {
        if (signal.aborted) return resolve({ kind: 'cancelled' });
        onAbort = () => resolve({ kind: 'cancelled' });
        signal.addEventListener('abort', onAbort, { once: true });
      }),
      timeoutMs === undefined
        ? never
        : new Promise<Verdict>((resolve) => {
            timer = setTimeout(() => resolve({ kind: 'timed-out' }), timeoutMs);
          }),
      limit
        ? limit.then((passed) => (passed ? { kind: 'over-limit' as const, passed } : never))
        : never,
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Rejects with `no answer within <ms> ms` unless the promise settles first. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Rejects as soon as the signal aborts, leaving the promise to finish on its own. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
