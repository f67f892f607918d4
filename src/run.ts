/**
 * One run with its log: the sink (masked screen output, the stop-commands guard, the log file)
 * opened around cook() with the runtime the settings ask for, and closed whatever happens.
 * Shared by the action, the CLI and the tests, so all three take the same path.
 */
import { chmod, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from './config/settings.js';
import { cook } from './cook.js';
import { LogSink, type TextWriter } from './logs/log-sink.js';
import type { Masker } from './logs/masker.js';
import type { CommandGuard } from './logs/stop-commands.js';
import type { RunOutcome } from './engine/outcome.js';
import { TAIL_LINES } from './report/summary-blocks.js';
import { loadRuntimes } from './runtime/factory.js';
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

/**
 * The run's folder, owner-only: folders inside it are opened to the workload's user (which may
 * differ from the action's) and are bind-mounted straight into the container, but no other user
 * of a shared runner can reach them through it. A folder found in its place that is not ours
 * (a link, another user's) is refused.
 */
export async function makeRunDir(runDir: string): Promise<void> {
  await mkdir(path.dirname(runDir), { recursive: true });
  await mkdir(runDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const stats = await lstat(runDir);
  if (!stats.isDirectory() || (process.getuid && stats.uid !== process.getuid())) {
    throw new Error(`The run's folder ${runDir} exists and is not a folder of this user's`);
  }
  await chmod(runDir, 0o700);
}

export async function runLogged(
  settings: Settings,
  masker: Masker,
  options: RunOptions,
): Promise<RunOutcome> {
  await makeRunDir(settings.runDir);
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
      runtime: options.runtime ?? (await loadRuntimes(settings)).single(),
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
