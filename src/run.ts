/**
 * One run with its log: the sink (masked screen output, the stop-commands guard, the log file)
 * opened around cook() with the runtime the settings ask for, and closed whatever happens.
 * Shared by the action, the CLI and the tests, so all three take the same path.
 */
import type { Settings } from './config/settings.js';
import { cook } from './cook.js';
import { LogSink, type TextWriter } from './logs/log-sink.js';
import type { Masker } from './logs/masker.js';
import type { CommandGuard } from './logs/stop-commands.js';
import type { RunOutcome } from './report/outcome.js';
import { TAIL_LINES } from './report/summary.js';
import { createRuntime } from './runtime/factory.js';
import type { ContainerRuntime } from './runtime/types.js';

export interface RunOptions {
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal;
  /** Given in GitHub Actions: relayed output cannot issue workflow commands. */
  readonly guard?: CommandGuard;
  /** Fold the action's own phases into ::group:: sections (GitHub Actions). */
  readonly foldGroups?: boolean;
  readonly onStarted?: (workloadId: string) => void;
  readonly stdout?: TextWriter;
  readonly stderr?: TextWriter;
  /** Before every line of this run's output (a shard's runs, side by side with others). */
  readonly linePrefix?: string;
  /** The runtime to use, instead of the one the settings ask for. */
  readonly runtime?: ContainerRuntime;
}

export async function runLogged(
  settings: Settings,
  masker: Masker,
  options: RunOptions,
): Promise<RunOutcome> {
  const sink = await LogSink.open({
    filePath: settings.logPath,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    masker,
    ...(options.guard ? { guard: options.guard } : {}),
    ...(options.linePrefix ? { linePrefix: options.linePrefix } : {}),
  });
  try {
    const outcome = await cook(settings, {
      runtime: options.runtime ?? createRuntime(settings),
      sink,
      signal: options.signal,
      ...(options.onStarted ? { onStarted: options.onStarted } : {}),
      ...(options.foldGroups
        ? {
            group: async (title, body) => {
              sink.group(title);
              try {
                return await body();
              } finally {
                sink.endGroup();
              }
            },
          }
        : {}),
    });
    return { ...outcome, logTail: sink.tail().slice(-TAIL_LINES) };
  } finally {
    await sink.close();
  }
}
