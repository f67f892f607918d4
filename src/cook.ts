/**
 * One run, start to end: plan the workload, prepare, start, relay its output, wait for the
 * engine's verdict under a timeout and cancellation, clean up, and describe what happened.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from './config/settings.js';
import { LineSplitter } from './logs/line-splitter.js';
import type { LogSink } from './logs/log-sink.js';
import type { RunOutcome, RunStatus } from './report/outcome.js';
import {
  bringBackCommits,
  type ContainerGit,
  prepareContainerGit,
} from './results/container-git.js';
import { type GitSnapshot, gitResult, snapshot } from './results/git.js';
import { type GitGuard, guardGitFiles } from './results/git-guard.js';
import { CLAUDE_FOLDER, runBranch } from './workflow/prodigy.js';
import { withGitMerge } from './workflow/derive.js';
import { Exchange } from './mapreduce/exchange.js';
import { type ClaudeUsage, NO_CLAUDE, readClaudeRecords } from './results/claude-records.js';
import {
  budgetOf,
  type ClaudeBudget,
  hasLimits,
  type PassedLimit,
} from './results/claude-budget.js';
import { inert } from './logs/inert.js';
import { buildRunSpec, prodigyHomeOnHost, runToolsDir } from './runtime/spec.js';
import type {
  ContainerRuntime,
  ExitStatus,
  OutputChunk,
  ResourceUsage,
  StreamName,
  Workload,
} from './runtime/types.js';

/** SIGTERM, then SIGKILL this long after, when the timeout is reached. */
export const TIMEOUT_GRACE_SECONDS = 10;
/**
 * On cancellation the runner sends SIGKILL 10 s after SIGINT; stopping within 2 s leaves time to
 * read the tail of the log and remove what was created (DESIGN rule 4: done within 7 s).
 */
export const CANCEL_GRACE_SECONDS = 2;
/**
 * How long output may stall after the exit before it is given up on (a child holding the pipe).
 * Output still arriving is awaited however long it takes: a burst of a million lines is read to
 * its end.
 */
const OUTPUT_DRAIN_MS = 15_000;
/** How long after its own deadline an engine that enforces timeouts gets to report one. */
const ENGINE_TIMEOUT_BACKSTOP_MS = 180_000;
const OUTPUT_DRAIN_CANCELLED_MS = 1_500;
/** How long the runtime may take to say what the workload used before it is given up on. */
const REPORT_DEADLINE_MS = 10_000;
/** How often Claude's session logs are read while a run with a spend or turn cap goes. */
export const BUDGET_WATCH_MS = 2_000;
/** Each run of the process, counted in its step's budget by a name of its own. */
let runsCounted = 0;

export interface CookDeps {
  readonly runtime: ContainerRuntime;
  readonly sink: LogSink;
  /** Aborted when the run is cancelled (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
  readonly now?: () => number;
  /** Called once the workload exists, with its id (so it can be reported even if we are killed). */
  readonly onStarted?: (workloadId: string) => void;
  /** The action's own progress messages, as folded groups. */
  readonly group?: <T>(title: string, body: () => Promise<T>) => Promise<T>;
}

export async function cook(given: Settings, deps: CookDeps): Promise<RunOutcome> {
  const now = deps.now ?? Date.now;
  const { runtime, sink, signal } = deps;
  const group = deps.group ?? ((title, body) => (sink.note(title), body()));
  const startedAt = now();
  const settings = await mergingWithGit(given, (m) => sink.note(m));
  const spec = buildRunSpec(settings);
  const image = spec.container?.image;
  const base = {
    runtime: settings.runtime,
    ...(image ? { image } : {}),
    logPath: settings.logPath,
    startedAt,
  };

  if (settings.dryRun) {
    sink.note(
      `Dry run: this ${settings.runtime} workload would be started, and nothing else happens.`,
    );
    for (const line of runtime.describe(spec).split('\n')) sink.note(line);
    return finish({
      ...base,
      status: 'succeeded',
      reason: 'dry run: nothing was started',
      dryRun: true,
    });
  }

  if (settings.runtime === 'local' && settings.ignoredInputs.length > 0) {
    sink.note(
      `Note: runtime 'local' runs a plain process; these inputs apply to containers only and are ignored: ${settings.ignoredInputs.join(', ')}.`,
    );
  }

  await mkdir(settings.runDir, { recursive: true });
  let gitBefore: GitSnapshot | undefined;
  if (settings.workload.kind === 'prodigy') {
    const home = prodigyHomeOnHost(settings);
    await mkdir(home, { recursive: true });
    // The workload may run as another user than the action; it must still write its records.
    await chmod(home, 0o777);
    gitBefore = await snapshot(settings.workspace);
  }

  let workload: Workload | undefined;
  let exit: ExitStatus | undefined;
  let status: RunStatus | undefined;
  let reason = '';
  const phases: Record<string, number> = {};
  let firstOutputAt: number | undefined;
  let cleanupError: unknown;
  let prepared = false;
  let usage: ResourceUsage | undefined;
  let guard: GitGuard | undefined;
  let containerGit: ContainerGit | undefined;
  const claudeDir = path.join(prodigyHomeOnHost(settings), CLAUDE_FOLDER);
  const limits = settings.workload.kind === 'prodigy' ? settings.claudeLimits : undefined;
  const budget = hasLimits(limits)
    ? budgetOf(settings.runGroup ?? settings.runId, limits)
    : undefined;
  const budgetKey = `${settings.runId}#${++runsCounted}`;
  let stoppedBy: PassedLimit | undefined;
  /** What Claude had used when the run was last looked at (a pod's copy, while it ran). */
  let lastSeen: ClaudeUsage | undefined;

  try {
    const already = budget?.passed();
    if (already) {
      stoppedBy = already;
      throw new Error(`${already.message} before this run of the step began; it was not started`);
    }
    const prepareStart = now();
    guard = await guardGitFiles(settings.workspace);
    if (settings.runtime !== 'local') {
      containerGit = await prepareContainerGit(settings.workspace, settings.runDir);
    }
    await group(`Preparing the ${settings.runtime} runtime`, () =>
      abortable(
        runtime.prepare(spec, (m) => sink.note(m)),
        signal,
      ),
    );
    phases.prepare_seconds = (now() - prepareStart) / 1000;
    prepared = true;

    const runStart = now();
    // Not abortable: creating and starting take a moment, and what is created must be known to
    // cleanup. Cancellation is honoured right after.
    workload = await runtime.start(spec);
    deps.onStarted?.(workload.id);

    const splitters: Record<StreamName, LineSplitter> = {
      stdout: new LineSplitter(),
      stderr: new LineSplitter(),
    };
    const outputStop = new AbortController();
    // The real clock: stalls are measured in real time whatever clock the outcome uses.
    let lastOutputAt = Date.now();
    const onChunk = ({ stream, data }: OutputChunk) => {
      firstOutputAt ??= now();
      lastOutputAt = Date.now();
      for (const line of splitters[stream].push(data)) sink.relay(stream, line);
    };
    const outputDone = workload.output(onChunk, outputStop.signal).catch((error: unknown) => {
      sink.note(`Reading the output failed: ${(error as Error).message}`);
    });

    // An engine that enforces the timeout itself also brings back what the run made; the own
    // timer then only catches an engine that never does.
    const ownTimeoutMs =
      workload.enforcesTimeout && settings.timeoutMs !== undefined
        ? settings.timeoutMs + ENGINE_TIMEOUT_BACKSTOP_MS
        : settings.timeoutMs;
    const watchStop = new AbortController();
    const started = workload;
    const watching = budget
      ? watchBudget(
          async () => {
            const dir = started.peek
              ? await started.peek(spec.env.CLAUDE_CONFIG_DIR ?? '')
              : claudeDir;
            const usage = dir ? (await readClaudeRecords(dir)).usage : undefined;
            if (usage) lastSeen = usage;
            return usage;
          },
          budget,
          budgetKey,
          watchStop.signal,
        )
      : undefined;
    const verdict = await raceVerdict(workload, signal, ownTimeoutMs, watching).finally(() =>
      watchStop.abort(),
    );
    if (verdict.kind === 'over-limit') {
      stoppedBy = verdict.passed;
      sink.note(
        `${verdict.passed.message}: stopping the workload (SIGTERM, then SIGKILL after ${TIMEOUT_GRACE_SECONDS}s).`,
      );
      await workload.stop(TIMEOUT_GRACE_SECONDS).catch((error: unknown) => {
        sink.note(`Stopping the workload failed: ${(error as Error).message}`);
      });
      exit = await withDeadline(workload.wait(), TIMEOUT_GRACE_SECONDS * 1000 + 5000).catch(
        () => undefined,
      );
      status = 'failed';
      reason = `${verdict.passed.message}; the run was stopped`;
    } else if (verdict.kind === 'cancelled' || verdict.kind === 'timed-out') {
      status = verdict.kind;
      const grace = status === 'cancelled' ? CANCEL_GRACE_SECONDS : TIMEOUT_GRACE_SECONDS;
      sink.note(
        status === 'cancelled'
          ? 'Cancelled: stopping the workload.'
          : `Timed out after ${formatSeconds(settings.timeoutMs! / 1000)}: stopping the workload (SIGTERM, then SIGKILL after ${grace}s).`,
      );
      await workload.stop(grace).catch((error: unknown) => {
        sink.note(`Stopping the workload failed: ${(error as Error).message}`);
      });
      exit = await withDeadline(workload.wait(), grace * 1000 + 5000).catch(() => undefined);
      reason =
        status === 'cancelled'
          ? 'the run was cancelled'
          : `the run exceeded its timeout of ${formatSeconds(settings.timeoutMs! / 1000)}`;
    } else {
      exit = verdict.exit;
    }

    const drained =
      status === 'cancelled'
        ? await withDeadline(
            outputDone.then(() => true),
            OUTPUT_DRAIN_CANCELLED_MS,
          ).catch(() => false)
        : await untilStalled(outputDone, () => lastOutputAt, OUTPUT_DRAIN_MS);
    if (!drained) {
      outputStop.abort();
      sink.note('The output did not end after the workload exited; stopped reading it.');
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const line of splitters[stream].flush()) sink.relay(stream, line);
    }
    sink.endRelay();
    phases.run_seconds = (now() - runStart) / 1000;
    if (workload.report) {
      const report = await withDeadline(workload.report(), REPORT_DEADLINE_MS).catch(
        (error: unknown) => {
          sink.note(`Reading what the workload used failed: ${(error as Error).message}`);
          return undefined;
        },
      );
      if (report) {
        Object.assign(phases, report.phases);
        usage = report.usage;
      }
    }

    if (status === undefined) ({ status, reason } = judge(exit, spec.container?.memory?.text));
  } catch (error) {
    sink.endRelay();
    if (signal.aborted) {
      status = 'cancelled';
      reason = prepared
        ? 'the run was cancelled'
        : 'the run was cancelled before the workload started';
    } else {
      status = 'failed';
      reason = (error as Error).message;
    }
  } finally {
    const cleanupStart = now();
    try {
      await runtime.cleanup();
    } catch (error) {
      cleanupError = error;
    }
    // A local run's claude kept its environment, secrets included, in the run's folder.
    if (settings.runtime === 'local') {
      await rm(runToolsDir(settings.runDir), { recursive: true, force: true }).catch(() => {});
    }
    phases.cleanup_seconds = (now() - cleanupStart) / 1000;
  }
  if (cleanupError) {
    sink.note(`Cleanup failed: ${(cleanupError as Error).message}`);
  }
  // Nothing of the workload runs now: its git files are undone, then its commits come in.
  const restored = await restoreGit(guard, containerGit);
  for (const note of restored.notes) sink.note(`Warning: ${note}`);
  if (restored.error) {
    sink.note(restored.error);
    if (status === 'succeeded' || status === undefined) {
      status = 'failed';
      reason = restored.error;
    }
  }

  const git = gitBefore
    ? await gitResult(settings.workspace, gitBefore).catch(() => undefined)
    : undefined;
  const claude =
    settings.workload.kind === 'prodigy'
      ? await readClaudeRecords(claudeDir).catch((error: unknown) => ({
          skipped: [(error as Error).message],
          usage: undefined,
        }))
      : undefined;
  for (const why of claude?.skipped ?? []) {
    sink.note(`Warning: one of Claude's session logs was left out of its figures: ${inert(why)}`);
  }
  // A pod stopped at a cap may not hand its records back: what was seen of them then counts.
  const claudeUsage = claude ? (claude.usage ?? lastSeen ?? NO_CLAUDE) : undefined;
  if (budget && claudeUsage && !stoppedBy) {
    budget.record(budgetKey, claudeUsage);
    ({ status, reason } = heldToLimits(budget, status ?? 'failed', reason));
  }
  return finish({
    ...base,
    status: status ?? 'failed',
    reason,
    ...(exit?.exitCode !== undefined ? { exitCode: exit.exitCode } : {}),
    oomKilled: exit?.oomKilled ?? false,
    ...(workload ? { workloadId: workload.id } : {}),
    phases,
    ...(usage ? { usage } : {}),
    ...(firstOutputAt !== undefined
      ? { firstOutputSeconds: (firstOutputAt - startedAt) / 1000 }
      : {}),
    relayedLines: sink.relayedLines,
    relayedBytes: sink.relayedBytes,
    ...(git ? { git } : {}),
    // A Prodigy run reports what Claude cost, nothing when it did not run.
    ...(claudeUsage ? { claude: claudeUsage } : {}),
    ...(restored.notes.length > 0 ? { warnings: restored.notes } : {}),
  });

  async function restoreGit(
    saved: GitGuard | undefined,
    prepared: ContainerGit | undefined,
  ): Promise<{ notes: string[]; error?: string }> {
    const notes: string[] = [];
    try {
      if (saved) notes.push(...(await saved.restore()));
      if (prepared) {
        notes.push(
          ...(await bringBackCommits(prepared, {
            workspace: settings.workspace,
            runDir: settings.runDir,
            ownBranch: runBranch(settings.runId),
            limit: settings.transferLimit,
          })),
        );
      }
    } catch (error) {
      return {
        notes,
        error: `Bringing back the run's commits failed: ${(error as Error).message}`,
      };
    }
    return { notes };
  }

  function finish(partial: Omit<RunOutcome, 'durationSeconds' | 'endedAt'>): RunOutcome {
    const endedAt = now();
    return { ...partial, endedAt, durationSeconds: (endedAt - startedAt) / 1000 };
  }
}

/**
 * With git-merge, a workflow without a `merge:` of its own runs as a copy that has git's (a
 * derived workflow, as the shards' are); one with its own runs as it is.
 */
async function mergingWithGit(settings: Settings, note: (m: string) => void): Promise<Settings> {
  const workload = settings.workload;
  if (workload.kind !== 'prodigy' || !workload.gitMerge || workload.derived) return settings;
  const text = await readFile(path.join(settings.workspace, workload.workflow), 'utf8');
  const derived = withGitMerge(text);
  if (derived === undefined) return settings;
  await mkdir(settings.runDir, { recursive: true });
  const exchange = await Exchange.fresh(settings, 'merge');
  await exchange.write('workflow.yml', derived);
  note(
    `git-merge: ${workload.workflow} has no merge block, so Prodigy's session is merged with git.`,
  );
  return exchange.running('workflow.yml');
}

/** The engine's exit status → status and a sentence saying why (DESIGN rule 1). */
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

/**
 * Reads what Claude used every BUDGET_WATCH_MS into the step's budget; resolves with the cap
 * the step's total passed, or undefined once stopped.
 */
async function watchBudget(
  read: () => Promise<ClaudeUsage | undefined>,
  budget: ClaudeBudget,
  key: string,
  signal: AbortSignal,
): Promise<PassedLimit | undefined> {
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, BUDGET_WATCH_MS);
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

type Verdict =
  | { kind: 'exited'; exit: ExitStatus }
  | { kind: 'cancelled' }
  | { kind: 'timed-out' }
  | { kind: 'over-limit'; passed: PassedLimit };

async function raceVerdict(
  workload: Workload,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  limit: Promise<PassedLimit | undefined> | undefined,
): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race<Verdict>([
      workload.wait().then((exit) => ({ kind: 'exited', exit })),
      ...(limit
        ? [
            limit.then((passed) =>
              passed ? { kind: 'over-limit' as const, passed } : new Promise<never>(() => {}),
            ),
          ]
        : []),
      new Promise<Verdict>((resolve) => {
        if (signal.aborted) return resolve({ kind: 'cancelled' });
        onAbort = () => resolve({ kind: 'cancelled' });
        signal.addEventListener('abort', onAbort, { once: true });
      }),
      ...(timeoutMs === undefined
        ? []
        : [
            new Promise<Verdict>((resolve) => {
              timer = setTimeout(() => resolve({ kind: 'timed-out' }), timeoutMs);
            }),
          ]),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Rejects as soon as the signal aborts, leaving the promise to finish on its own. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** True when done settles; false once no output has come for stallMs (counted from now at least). */
async function untilStalled(
  done: Promise<void>,
  lastOutputAt: () => number,
  stallMs: number,
): Promise<boolean> {
  const since = Date.now();
  const quietFor = () => Date.now() - Math.max(since, lastOutputAt());
  while (quietFor() < stallMs) {
    const wait = Math.min(1000, Math.max(50, stallMs - quietFor()));
    if (
      await withDeadline(done, wait).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(1)}s`;
}
