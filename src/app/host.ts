/**
 * Where a run is hosted: a GitHub Actions step (step.ts) or a terminal (run-cli.ts). The modes
 * (app/modes.ts) are written once against this; the two hosts differ only here.
 */
import type { OutputName } from '../config/names.js';
import type { Settings } from '../config/settings.js';
import type { RunOutcome } from '../engine/outcome.js';
import type { TextWriter } from '../logs/log-sink.js';
import type { Masker } from '../logs/masker.js';

export interface Host {
  readonly settings: Settings;
  /** Every secret of the run: what is shown, written or uploaded is masked with it. */
  readonly masker: Masker;
  /** Aborted when the run is cancelled (SIGINT, SIGTERM). */
  readonly signal: AbortSignal;
  /** Where the host's own output goes; the shards of a fan-out write there too. */
  readonly stdout: TextWriter;
  /** Each shard's output in a fold of its own (the step log), or side by side (a terminal). */
  readonly foldShards: boolean;
  /** Runs one workload with the host's log. */
  run(settings: Settings, onStarted?: (workloadId: string) => void): Promise<RunOutcome>;
  /** The host's own message; it may quote the workload, so it is masked and made inert. */
  note(message: string): void;
  /** A notice annotation in GitHub; a plain line elsewhere. */
  notice(message: string): void;
  warning(message: string): void;
  setOutput(name: OutputName, value: string): void;
  /** The job summary (GitHub), or a file of the run's (elsewhere). */
  writeSummary(markdown: string): Promise<void>;
  /** Says how the run ended, and fails the step (or the process) unless it succeeded. */
  conclude(outcome: RunOutcome, what: string): void;
}

/** "The run failed: exit code 3." and the like; a cancellation is said once. */
export function conclusion(outcome: RunOutcome, what: string): string {
  if (outcome.status === 'succeeded') {
    return `${what} succeeded (${outcome.reason}) in ${outcome.durationSeconds.toFixed(1)} s.`;
  }
  const verb = { failed: 'failed', 'timed-out': 'timed out', cancelled: 'was cancelled' }[
    outcome.status
  ];
  const why = /^the run was cancelled$/i.test(outcome.reason) ? '' : `: ${outcome.reason}`;
  return `${what} ${verb}${why}.`;
}
