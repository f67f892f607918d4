/**
 * The one narrow interface every runtime implements (docs/ARCHITECTURE.md). The orchestration in
 * cook.ts knows nothing else about Docker, Kubernetes or processes.
 */
import type { CpuQuantity, GpuRequest, MemoryQuantity } from '../config/parse.js';
import type { NetworkMode, PullPolicy } from '../config/container-settings.js';
import type { StreamName } from '../logs/log-sink.js';

/** What to run, in terms every runtime understands. Built by spec.ts from Settings. */
export interface RunSpec {
  readonly runId: string;
  /** Name for the container or Job: `cook-<runId>`. */
  readonly name: string;
  /** Put on everything created, so cleanup and post can find it. */
  readonly labels: Readonly<Record<string, string>>;
  /** The program and its arguments (no shell is added). */
  readonly argv: readonly string[];
  /** Working directory as the workload sees it. */
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  /** Secret variables, kept apart so a runtime can store them as secrets. */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** Host folders and where the workload sees them; a read-only one never comes back. */
  readonly mounts: readonly {
    readonly host: string;
    readonly target: string;
    readonly readOnly?: boolean;
  }[];
  /** A host folder of the run's own for the runtime's files (Docker: the usage counters). */
  readonly controlDir?: string;
  /**
   * The most bytes that travel to or from a runtime without shared disk (Kubernetes: each
   * archive in or out, the commits, each volume's sizeLimit); `text` is as the user wrote it.
   */
  readonly transferLimit: { readonly bytes: number; readonly text: string };
  /**
   * Stop the run past this many milliseconds (`timeout`). Docker and the local runtime count from
   * the workload's start; Kubernetes enforces it as the Job's activeDeadlineSeconds, which counts
   * from the Job's start (scheduling, the pull and the workspace's transfer included).
   */
  readonly timeoutMs?: number;
  /** Who asked for the run, and its workflow: the engine's record of it (Job annotations). */
  readonly origin: { readonly submitter: string; readonly workflow?: string };
  /** Kubernetes: how long a pod may stay unschedulable before the run fails, saying why. */
  readonly schedulingTimeoutMs?: number;
  /** The workflow file the argv names at argIndex, for runtimes that ship it apart. */
  readonly workflowFile?: { readonly host: string; readonly argIndex: number };
  readonly container?: ContainerSpec;
}

export interface ContainerSpec {
  readonly image: string;
  readonly pullPolicy: PullPolicy;
  readonly registryAuth?: { readonly username: string; readonly password: string };
  readonly cpu?: CpuQuantity;
  readonly memory?: MemoryQuantity;
  readonly gpus?: GpuRequest;
  readonly network: NetworkMode;
  readonly user?: string;
  /** The only Linux capabilities the workload keeps; privileges are never escalated. */
  readonly capabilities: readonly string[];
}

export interface OutputChunk {
  readonly stream: StreamName;
  readonly data: Buffer;
}

/** The engine's own account of how the workload ended (ARCHITECTURE.md, rule 1). */
export interface ExitStatus {
  /** Undefined when the engine did not report one: that is a failure, never a success. */
  readonly exitCode: number | undefined;
  readonly oomKilled: boolean;
  /** The engine's own words when it could not run the workload. */
  readonly error?: string;
  /** The engine stopped the workload at its deadline (Kubernetes activeDeadlineSeconds). */
  readonly timedOut?: boolean;
  /** What the run made could not be brought back to the runner (a pod, not a bind mount). */
  readonly resultsError?: string;
}

/**
 * What the workload used, as the engine counted it. Counters are totals over the run; memory is
 * the peak. Absent fields were not available (no network, or the engine does not count them).
 */
export interface ResourceUsage {
  /**
   * Where the numbers come from: the container's own cgroup counters, Docker's stats API, or
   * (when nothing could count) an out-of-memory kill, which puts the peak at the limit.
   */
  readonly source: 'cgroup' | 'docker-stats' | 'oom-kill';
  readonly cpuSeconds?: number;
  readonly memoryPeakBytes?: number;
  readonly networkRxBytes?: number;
  readonly networkTxBytes?: number;
  readonly blockReadBytes?: number;
  readonly blockWriteBytes?: number;
}

/** Seconds per phase, as the runtime measured them; absent phases do not apply to it. */
export interface PhaseTimes {
  /** Pulling the image (Docker: before the container; Kubernetes: the kubelet's own count). */
  readonly pull_seconds?: number;
  /** From the pod's creation to its scheduling on a node (Kubernetes). */
  readonly schedule_seconds?: number;
  /** From asking for the workload to its first instruction running. */
  readonly start_seconds?: number;
  /** The workload itself, start to exit. */
  readonly run_seconds?: number;
  /** Bringing what the run made back to the runner (Kubernetes). */
  readonly copy_back_seconds?: number;
}

export interface WorkloadMetrics {
  readonly phases: PhaseTimes;
  readonly usage?: ResourceUsage;
}

/**
 * A workload that was started, as its runtime follows it ("workload" alone is what runs: the
 * settings' Prodigy workflow or command).
 */
export interface RunningWorkload {
  /** Container id, Job name or process id. */
  readonly id: string;
  /**
   * Follows the output from the first byte until the workload has ended and the tail was read
   * once more. Resolves when no more output can come.
   */
  output(onChunk: (chunk: OutputChunk) => void, signal?: AbortSignal): Promise<void>;
  /** Resolves when the workload has ended. */
  wait(): Promise<ExitStatus>;
  /** Asks the workload to stop (SIGTERM), killing it after graceSeconds. */
  stop(graceSeconds: number): Promise<void>;
  /**
   * While it runs: a current copy, on the runner, of a folder the workload writes (`target`, as
   * the workload sees it), or undefined when it is not there (yet). Only runtimes that share no
   * disk with the runner have it; with a bind mount, the host folder is read as it is.
   */
  peek?(target: string): Promise<string | undefined>;
  /** After wait(), before cleanup: how long its phases took and what it used. */
  metrics?(): Promise<WorkloadMetrics>;
  /**
   * The engine enforces the run's timeout itself (Kubernetes activeDeadlineSeconds) and says so
   * through ExitStatus.timedOut; the caller's own timer is then only a backstop.
   */
  readonly enforcesTimeout?: boolean;
}

export interface ContainerRuntime {
  readonly kind: 'docker' | 'local' | 'kubernetes';
  /** Human-readable description of what start() would create, secrets hidden (dry-run). */
  describe(spec: RunSpec): string;
  /** Makes the image and network ready; reports progress through log. */
  prepare(spec: RunSpec, log: (message: string) => void): Promise<void>;
  start(spec: RunSpec): Promise<RunningWorkload>;
  /** Removes everything this instance created. Idempotent; safe to call at any point. */
  cleanup(): Promise<void>;
  /** Removes everything labelled with runId, whoever created it (the post step). */
  sweep(runId: string): Promise<string[]>;
}
