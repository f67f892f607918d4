/**
 * One run, start to end, as a short sequence: prepare the runtime, start the workload, await its
 * verdict (the engine's, or a cancellation, the timeout, a Claude cap), stop it when that was not
 * the engine's, relay its output to the end, clean up; then collect what it made (its commits,
 * what Claude used) and describe what happened. The parts are in engine/.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from './config/settings.js';
import { watchBudget } from './engine/budget-watch.js';
import {
  abortable,
  ownTimeoutMs,
  raceVerdict,
  type Verdict,
  withDeadline,
} from './engine/deadline.js';
import { collect, mergingWithGit, prepareHost } from './engine/collect.js';
import { OutputRelay } from './engine/relay.js';
import { judge, peakAtLimit } from './engine/verdict.js';
import type { LogSink } from './logs/log-sink.js';
import type { RunOutcome, RunStatus } from './engine/outcome.js';
import { type ContainerGit, prepareContainerGit } from './results/container-git.js';
import { type GitGuard, guardGitFiles } from './results/git-guard.js';
import { CLAUDE_FOLDER } from './workflow/prodigy.js';
import { type ClaudeUsage, readClaudeRecords } from './results/claude-records.js';
import {
  budgetOf,
  type ClaudeBudget,
  hasLimits,
  type PassedLimit,
} from './results/claude-budget.js';
import { buildRunSpec, prodigyHomeOnHost, runToolsDir } from './runtime/spec.js';
import type {
  ContainerRuntime,
  ExitStatus,
  ResourceUsage,
  RunSpec,
  RunningWorkload,
} from './runtime/types.js';

/** SIGTERM, then SIGKILL this long after, when the timeout or a cap is reached. */
export const TIMEOUT_GRACE_SECONDS = 10;
/**
 * On cancellation the runner sends SIGKILL 10 s after SIGINT; stopping within 2 s leaves time to
 * read the tail of the log and remove what was created (ARCHITECTURE.md, rule 4: done within 7 s).
 */
export const CANCEL_GRACE_SECONDS = 2;
/** How long the runtime may take to say what the workload used before it is given up on. */
const METRICS_DEADLINE_MS = 10_000;

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

/** What one run needs on its way: its settings and spec, the runtime, the log, the clock. */
interface RunContext extends CookDeps {
  readonly settings: Settings;
  readonly spec: RunSpec;
  readonly now: () => number;
  /** Claude's folder (CLAUDE_CONFIG_DIR) on the runner, inside Prodigy's records. */
  readonly claudeDir: string;
  /** The step's Claude budget, when it has caps, and this run's name in it. */
  readonly claude?: { readonly budget: ClaudeBudget; readonly key: string };
}

/** How the workload part of a run went (before its results are collected). */
interface Ran {
  status?: RunStatus;
  reason: string;
  exit?: ExitStatus;
  workload?: RunningWorkload;
  readonly phases: Record<string, number>;
  usage?: ResourceUsage;
  firstOutputAt?: number;
  guard?: GitGuard;
  containerGit?: ContainerGit;
  /** The cap that stopped the run, or kept it from starting. */
  stoppedBy?: PassedLimit;
  /** What Claude had used when the run was last looked at (a pod's copy, while it ran). */
  lastSeen?: ClaudeUsage;
}

/** Each run of the process, counted in its step's budget by a name of its own. */
let runsCounted = 0;

export async function cook(given: Settings, deps: CookDeps): Promise<RunOutcome> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const settings = await mergingWithGit(given, (m) => deps.sink.note(m));
  const spec = buildRunSpec(settings);
  const base = {
    runtime: settings.runtime,
    ...(spec.container ? { image: spec.container.image } : {}),
    logPath: settings.logPath,
    startedAt,
  };
  const finish = (partial: Omit<RunOutcome, 'durationSeconds' | 'endedAt'>): RunOutcome => {
    const endedAt = now();
    return { ...partial, endedAt, durationSeconds: (endedAt - startedAt) / 1000 };
  };

  if (settings.dryRun) {
    deps.sink.note(
      `Dry run: this ${settings.runtime} workload would be started, and nothing else happens.`,
    );
    for (const line of deps.runtime.describe(spec).split('\n')) deps.sink.note(line);
    return finish({
      ...base,
      status: 'succeeded',
      reason: 'dry run: nothing was started',
      dryRun: true,
    });
  }
  if (settings.runtime === 'local' && settings.ignoredInputs.length > 0) {
    deps.sink.note(
      `Note: runtime 'local' runs a plain process; these inputs apply to containers only and are ignored: ${settings.ignoredInputs.join(', ')}.`,
    );
  }

  const gitBefore = await prepareHost(settings);
  const context = runContext(settings, spec, deps, now);
  const ran = await runWorkload(context);
  const collected = await collect(context, ran, gitBefore);
  return finish({ ...base, ...outcomeOf(ran, collected, deps.sink, startedAt) });
}

function runContext(
  settings: Settings,
  spec: RunSpec,
  deps: CookDeps,
  now: () => number,
): RunContext {
  const limits = settings.workload.kind === 'prodigy' ? settings.claudeLimits : undefined;
  return {
    ...deps,
    settings,
    spec,
    now,
    claudeDir: path.join(prodigyHomeOnHost(settings), CLAUDE_FOLDER),
    ...(hasLimits(limits)
      ? {
          claude: {
            budget: budgetOf(settings.runGroup ?? settings.runId, limits),
            key: `${settings.runId}#${++runsCounted}`,
          },
        }
      : {}),
  };
}

/** The outcome's account of the run, from how the workload went and what came back. */
function outcomeOf(
  ran: Ran,
  collected: Awaited<ReturnType<typeof collect>>,
  sink: LogSink,
  startedAt: number,
) {
  return {
    status: collected.status,
    reason: collected.reason,
    ...(ran.exit?.exitCode !== undefined ? { exitCode: ran.exit.exitCode } : {}),
    oomKilled: ran.exit?.oomKilled ?? false,
    ...(ran.workload ? { workloadId: ran.workload.id } : {}),
    phases: ran.phases,
    ...(ran.usage ? { usage: ran.usage } : {}),
    ...(ran.firstOutputAt !== undefined
      ? { firstOutputSeconds: (ran.firstOutputAt - startedAt) / 1000 }
      : {}),
    relayedLines: sink.relayedLines,
    relayedBytes: sink.relayedBytes,
    ...(collected.git ? { git: collected.git } : {}),
    // A Prodigy run reports what Claude cost, nothing when it did not run.
    ...(collected.claude ? { claude: collected.claude } : {}),
    ...(collected.warnings.length > 0 ? { warnings: collected.warnings } : {}),
  };
}

/** prepare → start → await the verdict → stop → relay to the end → what it used; then clean up. */
async function runWorkload(context: RunContext): Promise<Ran> {
  const { settings, spec, runtime, sink, signal, now } = context;
  const ran: Ran = { reason: '', phases: {} };
  let prepared = false;
  try {
    const already = context.claude?.budget.passed();
    if (already) {
      ran.stoppedBy = already;
      throw new Error(`${already.message} before this run of the step began; it was not started`);
    }
    const prepareStart = now();
    ran.guard = await guardGitFiles(settings.workspace);
    if (settings.runtime !== 'local') {
      ran.containerGit = await prepareContainerGit(settings.workspace, settings.runDir);
    }
    const group = context.group ?? ((title, body) => (sink.note(title), body()));
    await group(`Preparing the ${settings.runtime} runtime`, () =>
      abortable(
        runtime.prepare(spec, (m) => sink.note(m)),
        signal,
      ),
    );
    ran.phases.prepare_seconds = (now() - prepareStart) / 1000;
    prepared = true;

    const runStart = now();
    // Not abortable: creating and starting take a moment, and what is created must be known to
    // cleanup. Cancellation is honoured right after.
    const workload = (ran.workload = await runtime.start(spec));
    context.onStarted?.(workload.id);
    const relay = new OutputRelay(workload, sink, now);
    await awaitVerdict(context, workload, ran);
    await relay.finish(ran.status === 'cancelled');
    ran.firstOutputAt = relay.firstOutputAt;
    ran.phases.run_seconds = (now() - runStart) / 1000;
    await readMetrics(context, workload, ran);
    if (ran.status === undefined) Object.assign(ran, judge(ran.exit, spec.container?.memory?.text));
  } catch (error) {
    sink.endRelay();
    if (signal.aborted) {
      ran.status = 'cancelled';
      ran.reason = prepared
        ? 'the run was cancelled'
        : 'the run was cancelled before the workload started';
    } else {
      ran.status = 'failed';
      ran.reason = (error as Error).message;
    }
  } finally {
    await cleanUp(context, ran);
  }
  return ran;
}

/**
 * Waits for the engine's verdict; a cancellation, the timeout or a passed cap stops the workload
 * first (SIGTERM, then SIGKILL after the grace) and decides the status itself.
 */
async function awaitVerdict(
  context: RunContext,
  workload: RunningWorkload,
  ran: Ran,
): Promise<void> {
  const { settings, sink, signal, claude } = context;
  const watchStop = new AbortController();
  const watching = claude
    ? watchBudget(
        async () => {
          const dir = workload.peek
            ? await workload.peek(context.spec.env.CLAUDE_CONFIG_DIR ?? '')
            : context.claudeDir;
          const usage = dir ? (await readClaudeRecords(dir)).usage : undefined;
          if (usage) ran.lastSeen = usage;
          return usage;
        },
        claude.budget,
        claude.key,
        watchStop.signal,
      )
    : undefined;
  const verdict = await raceVerdict(
    workload,
    signal,
    ownTimeoutMs(settings.timeoutMs, workload.enforcesTimeout),
    watching,
  ).finally(() => watchStop.abort());
  if (verdict.kind === 'exited') {
    ran.exit = verdict.exit;
    return;
  }
  const stopping = stoppingFor(verdict, settings.timeoutMs);
  if (verdict.kind === 'over-limit') ran.stoppedBy = verdict.passed;
  sink.note(stopping.said);
  await workload.stop(stopping.grace).catch((error: unknown) => {
    sink.note(`Stopping the workload failed: ${(error as Error).message}`);
  });
  ran.exit = await withDeadline(workload.wait(), stopping.grace * 1000 + 5000).catch(
    () => undefined,
  );
  ran.status = stopping.status;
  ran.reason = stopping.reason;
}

/** How a workload the engine did not end is stopped, and what the run then says. */
function stoppingFor(
  verdict: Exclude<Verdict, { kind: 'exited' }>,
  timeoutMs: number | undefined,
): { status: RunStatus; grace: number; said: string; reason: string } {
  const stop = (grace: number) => `stopping the workload (SIGTERM, then SIGKILL after ${grace}s)`;
  switch (verdict.kind) {
    case 'cancelled':
      return {
        status: 'cancelled',
        grace: CANCEL_GRACE_SECONDS,
        said: 'Cancelled: stopping the workload.',
        reason: 'the run was cancelled',
      };
    case 'timed-out': {
      const timeout = formatSeconds((timeoutMs ?? 0) / 1000);
      return {
        status: 'timed-out',
        grace: TIMEOUT_GRACE_SECONDS,
        said: `Timed out after ${timeout}: ${stop(TIMEOUT_GRACE_SECONDS)}.`,
        reason: `the run exceeded its timeout of ${timeout}`,
      };
    }
    case 'over-limit':
      return {
        status: 'failed',
        grace: TIMEOUT_GRACE_SECONDS,
        said: `${verdict.passed.message}: ${stop(TIMEOUT_GRACE_SECONDS)}.`,
        reason: `${verdict.passed.message}; the run was stopped`,
      };
  }
}

/** The runtime's account of phases and usage; a workload killed for memory peaked at its limit. */
async function readMetrics(
  context: RunContext,
  workload: RunningWorkload,
  ran: Ran,
): Promise<void> {
  const metrics = workload.metrics
    ? await withDeadline(workload.metrics(), METRICS_DEADLINE_MS).catch((error: unknown) => {
        context.sink.note(`Reading what the workload used failed: ${(error as Error).message}`);
        return undefined;
      })
    : undefined;
  if (metrics) Object.assign(ran.phases, metrics.phases);
  ran.usage = peakAtLimit(metrics?.usage, ran.exit, context.spec.container?.memory?.bytes);
}

async function cleanUp(context: RunContext, ran: Ran): Promise<void> {
  const cleanupStart = context.now();
  try {
    await context.runtime.cleanup();
  } catch (error) {
    context.sink.note(`Cleanup failed: ${(error as Error).message}`);
  }
  // A local run's claude kept its environment, secrets included, in the run's folder.
  if (context.settings.runtime === 'local') {
    await rm(runToolsDir(context.settings.runDir), { recursive: true, force: true }).catch(
      () => {},
    );
  }
  ran.phases.cleanup_seconds = (context.now() - cleanupStart) / 1000;
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(1)}s`;
}
