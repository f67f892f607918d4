/**
 * One guard for every entry and runtime: the step is never green without a verdict. Node exits
 * with code 0 once nothing is left to do, also when a promise the run waits on can never settle
 * (an engine connection lost in a way no library noticed). Before that exit, the guard checks
 * that the entry's own path decided the outcome, and fails it with a clear message if not.
 */
let decided = false;

/** The entry's own path ran to its end (the verdict, good or bad, is written). */
export function verdictDecided(): void {
  decided = true;
}

/** The message the step fails with when the process is about to end undecided. */
export const NO_VERDICT_MESSAGE =
  'The action was about to end before the run had a verdict: a call to the engine never ' +
  'returned (a lost connection?). The outcome is unknown, so the step fails; the post step ' +
  'removes what the run created.';

/** Installs the guard; `fail` runs once, synchronously, when the process would end undecided. */
export function guardVerdict(fail: (message: string) => void): void {
  process.on('beforeExit', () => {
    if (decided) return;
    decided = true;
    fail(NO_VERDICT_MESSAGE);
  });
}
