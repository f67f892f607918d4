/**
 * One step's node process, run the way the runner's ProcessInvoker runs it
 * (src/Runner.Sdk/ProcessInvoker.cs):
 * - stdin is a pipe closed at once; stdout and stderr are read line by line;
 * - the process counts as finished when it has exited and both streams are closed, or 5 s after
 *   it exited if a descendant still holds them open (the runner then stops reading);
 * - cancellation (job cancel or step timeout): SIGINT to the node process only, SIGTERM if it has
 *   not finished 7.5 s later, SIGKILL (again to that process only) 2.5 s after that.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { LineReader } from './line-reader.js';

export const SIGINT_TIMEOUT_MS = 7500;
export const SIGTERM_TIMEOUT_MS = 2500;
export const STREAMS_AFTER_EXIT_MS = 5000;

export type CancelReason = 'cancel' | 'timeout';

export interface CancellationRecord {
  reason: CancelReason;
  /** Milliseconds from the start of the step. */
  requestedAtMs: number;
  /** The signals actually delivered, with when. */
  signals: { signal: NodeJS.Signals; atMs: number }[];
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  rawStdout: string;
  rawStderr: string;
  /** From spawn to the runner considering the process finished. */
  durationMs: number;
  /** From spawn to the node process's exit. */
  exitedAtMs: number;
  /** A descendant kept stdout/stderr open after node exited; the runner gave up on them after 5 s. */
  outputHeldOpen: boolean;
  cancellation?: CancellationRecord;
}

export interface StepProcessOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Each line of either stream, in arrival order. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  cancelAfterMs?: number;
  timeoutMs?: number;
}

export interface StepProcess {
  readonly done: Promise<ProcessOutcome>;
  cancel(reason: CancelReason): void;
  /** SIGKILL at once, as when the runner's escalation reaches its end or the host kills it. */
  kill(): void;
}

interface Timer {
  promise: Promise<void>;
  clear(): void;
}

function timer(ms: number): Timer {
  let handle: NodeJS.Timeout | undefined;
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
    handle = setTimeout(r, ms);
  });
  return {
    promise,
    clear() {
      clearTimeout(handle);
      resolve();
    },
  };
}

export function startStepProcess(options: StepProcessOptions): StepProcess {
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  const child = spawn(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => {});
  child.stdin.end();

  let finished = false;
  const raw = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const closed = (['stdout', 'stderr'] as const).map((name) => {
    const stream = child[name];
    const reader = new LineReader((line) => {
      if (!finished) options.onLine(line, name);
    });
    stream.on('data', (chunk: Buffer) => {
      if (finished) return;
      raw[name].push(chunk);
      reader.push(chunk);
    });
    stream.on('end', () => {
      if (!finished) reader.end();
    });
    return new Promise<void>((resolve) => stream.once('close', () => resolve()));
  });

  let exitedAtMs = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('exit', (code, signal) => {
        exitedAtMs = elapsed();
        resolve({ code, signal });
      });
      child.once('error', (error) => {
        if (child.pid === undefined) reject(error);
      });
    },
  );

  let outputHeldOpen = false;
  let isComplete = false;
  const completed = exited.then(async (exit) => {
    const grace = timer(STREAMS_AFTER_EXIT_MS);
    const drained = await Promise.race([
      Promise.all(closed).then(() => true),
      grace.promise.then(() => false),
    ]);
    grace.clear();
    if (!drained) {
      outputHeldOpen = true;
      finished = true;
      child.stdout.destroy();
      child.stderr.destroy();
    }
    isComplete = true;
    return exit;
  });

  const finishedWithin = async (ms: number): Promise<boolean> => {
    const wait = timer(ms);
    const done = await Promise.race([completed.then(() => true), wait.promise.then(() => false)]);
    wait.clear();
    return done;
  };

  let cancellation: CancellationRecord | undefined;
  let sequence: Promise<void> | undefined;
  const send = (signal: NodeJS.Signals): boolean => {
    // Like kill(2) in the runner: fails once the process has exited.
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const delivered = child.kill(signal);
    if (delivered) cancellation!.signals.push({ signal, atMs: elapsed() });
    return delivered;
  };

  const cancel = (reason: CancelReason): void => {
    if (cancellation !== undefined || isComplete) return;
    cancellation = { reason, requestedAtMs: elapsed(), signals: [] };
    sequence = (async () => {
      if (send('SIGINT') && (await finishedWithin(SIGINT_TIMEOUT_MS))) return;
      if (send('SIGTERM') && (await finishedWithin(SIGTERM_TIMEOUT_MS))) return;
      send('SIGKILL');
    })();
  };

  const kill = (): void => {
    if (isComplete || child.exitCode !== null || child.signalCode !== null) return;
    cancellation ??= { reason: 'cancel', requestedAtMs: elapsed(), signals: [] };
    send('SIGKILL');
  };

  const timers: Timer[] = [];
  if (options.cancelAfterMs !== undefined) {
    const t = timer(options.cancelAfterMs);
    void t.promise.then(() => cancel('cancel'));
    timers.push(t);
  }
  if (options.timeoutMs !== undefined) {
    const t = timer(options.timeoutMs);
    void t.promise.then(() => cancel('timeout'));
    timers.push(t);
  }

  const done = completed
    .then(async (exit) => {
      if (sequence !== undefined) await sequence;
      finished = true;
      return {
        exitCode: exit.code,
        signal: exit.signal,
        rawStdout: Buffer.concat(raw.stdout).toString('utf8'),
        rawStderr: Buffer.concat(raw.stderr).toString('utf8'),
        durationMs: elapsed(),
        exitedAtMs,
        outputHeldOpen,
        ...(cancellation === undefined ? {} : { cancellation }),
      };
    })
    .finally(() => {
      // A cleared timer resolves its promise; `cancel` is then a no-op because the step is complete.
      for (const t of timers) t.clear();
    });

  return { done, cancel, kill };
}
