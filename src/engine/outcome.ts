/** What a run came to: the one value every report is made from. */
import type { RuntimeKind } from '../config/settings.js';
import type { ClaudeUsage } from '../results/claude-records.js';
import type { GitResult } from '../results/git.js';
import type { ResourceUsage } from '../runtime/types.js';

export type RunStatus = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface RunOutcome {
  readonly status: RunStatus;
  /** Why, in a few words: "exit code 7", "killed for running out of memory …". */
  readonly reason: string;
  readonly runtime: RuntimeKind;
  readonly image?: string;
  readonly exitCode?: number;
  readonly oomKilled?: boolean;
  /** Container id, or process id on the local runtime. */
  readonly workloadId?: string;
  readonly logPath: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationSeconds: number;
  /**
   * Seconds spent per phase: prepare_seconds, cleanup_seconds, and as the runtime measured them
   * pull_seconds, schedule_seconds, start_seconds, run_seconds, copy_back_seconds.
   */
  readonly phases?: Readonly<Record<string, number>>;
  /** What the workload used: CPU, peak memory, network and block I/O. */
  readonly usage?: ResourceUsage;
  /** From the action's start to the workload's first byte of output. */
  readonly firstOutputSeconds?: number;
  /** The last lines of the workload's output (masked), for a failure's excerpt. */
  readonly logTail?: readonly string[];
  readonly relayedLines?: number;
  readonly relayedBytes?: number;
  readonly git?: GitResult;
  /** What Claude used and cost, from its session logs (results/claude-records.ts). */
  readonly claude?: ClaudeUsage;
  /** What the action undid or left out of what the workload did (its git files, refs). */
  readonly warnings?: readonly string[];
  readonly dryRun?: boolean;
}
