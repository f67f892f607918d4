/**
 * One run's Job as the engine sees it, a RunningWorkload: its pods and the Job followed by
 * watches (shared by an Indexed Job's shards), the workspace sent in and the results brought
 * back through the keeper, the log followed, and the verdict taken from the workload
 * container's own state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  ExitStatus,
  OutputChunk,
  RunSpec,
  RunningWorkload,
  WorkloadMetrics,
} from '../types.js';
import { apiMessage, type Cluster, withRetries } from './client.js';
import { WORKLOAD_CONTAINER } from './pod-spec.js';
import { followPodLog, openPodLog } from './pod-logs.js';
import { execScript } from './exec.js';
import { COLLECTED_MARKER, KEEPER_CONTAINER } from './keeper.js';
import { collectMounts, type Mount, peekFolder, sendMounts } from './transfer.js';
import { applyCollected } from './unpack.js';
import { parseUsage } from '../usage.js';
import type { JobEvents } from './job-events.js';
import { deleteJob, execReady } from './job-api.js';
import { eventTime, goDuration, workloadStatus } from './pods.js';
import {
  type Effect,
  INITIAL_STATE,
  track,
  type TrackerConfig,
  type TrackerEvent,
  type TrackerState,
} from './pod-tracker.js';

/**
 * How long a pod may stay unschedulable before the run fails, saying why (the runner's
 * COOK_ACTION_SCHEDULING_TIMEOUT, in seconds, changes it).
 */
export const SCHEDULING_TIMEOUT_MS = 120_000;

export interface WorkloadOptions {
  /** The spec's host folders, sent in before the workload starts and brought back after. */
  readonly mounts: readonly Mount[];
  /** The mount whose working tree is mirrored into the runner's checkout. */
  readonly workspace: string;
  /** The most bytes each archive in or out may have (the transfer-limit input). */
  readonly limit: RunSpec['transferLimit'];
  readonly enforcesTimeout: boolean;
  readonly schedulingTimeoutMs: number;
  /** Follow only this index of an Indexed Job. */
  readonly index?: number;
}

/**
 * A Job that was started: its pods and the Job followed by the watches of job-events.ts, shared
 * by the Job's workloads. What they see goes through the pod tracker (pod-tracker.ts); this
 * class carries out the tracker's effects.
 */
export class KubernetesWorkload implements RunningWorkload {
  readonly id: string;
  readonly enforcesTimeout: boolean;
  private readonly stop$ = new AbortController();
  private state: TrackerState = INITIAL_STATE;
  private readonly config: TrackerConfig;
  private listeners: (() => void)[] = [];
  private readonly unsubscribe: () => void;
  private readonly verdict: Promise<ExitStatus>;
  private settle!: (status: ExitStatus) => void;
  private collecting: Promise<string | undefined> | undefined;
  private copyBackSeconds: number | undefined;
  private readonly scratch = mkdtempSync(path.join(os.tmpdir(), 'cook-transfer-'));

  /**
   * Follows Job `name` through `events`, the watches it shares with the Job's other workloads
   * (an Indexed Job's other shards): given only the pods of `options.index`, when set.
   */
  constructor(
    private readonly cluster: Cluster,
    name: string,
    events: JobEvents,
    private readonly log: (message: string) => void,
    private readonly options: WorkloadOptions,
  ) {
    this.id = name;
    this.enforcesTimeout = options.enforcesTimeout;
    this.config = {
      collects: options.mounts.length > 0,
      schedulingTimeoutMs: options.schedulingTimeoutMs,
      ...(options.index === undefined ? {} : { index: options.index }),
    };
    this.verdict = new Promise((resolve) => (this.settle = resolve));
    this.unsubscribe = events.subscribe(options.index, (event) => this.dispatch(event));
  }

  private dispatch(event: TrackerEvent): void {
    const step = track(this.config, this.state, event);
    this.state = step.state;
    for (const effect of step.effects) this.perform(effect);
    this.changed();
  }

  private perform(effect: Effect): void {
    switch (effect.kind) {
      case 'log':
        return this.log(effect.message);
      case 'send':
        return void this.sendWorkspace(effect.pod);
      case 'collect':
        this.collecting = this.collectResults(effect.pod);
        return;
      case 'release':
        return void execScript(
          this.cluster,
          effect.pod,
          KEEPER_CONTAINER,
          `touch ${COLLECTED_MARKER}`,
        ).catch(() => undefined);
      case 'show-events':
        return void this.logEvents(effect.pod);
      case 'finish':
        return void this.giveVerdict(effect.status, this.collecting);
      case 'fail':
        return void this.giveVerdict(
          effect.status,
          effect.pod ? this.logEvents(effect.pod).then(() => undefined) : undefined,
        );
    }
  }

  /** Gives the verdict once `first` is done; an error it resolves with joins the verdict. */
  private async giveVerdict(
    status: ExitStatus,
    first: Promise<string | undefined> | undefined,
  ): Promise<void> {
    const resultsError = first ? await first : undefined;
    this.settle(resultsError ? { ...status, resultsError } : status);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners.splice(0)) listener();
  }

  /** Resolves at the next change of a pod or the Job. */
  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  /**
   * The newest pod's phases as this runner saw them, the kubelet's own pull time from the pod's
   * events, and the counters the workload's shell left in its termination message.
   */
  async metrics(): Promise<WorkloadMetrics> {
    const name = this.state.order.at(-1);
    const marks = name ? this.state.marks.get(name) : undefined;
    const seconds = (from: number | undefined, to: number | undefined) =>
      from !== undefined && to !== undefined && to >= from ? (to - from) / 1000 : undefined;
    const phases: Record<string, number | undefined> = {
      schedule_seconds: seconds(marks?.seen, marks?.scheduled),
      start_seconds: seconds(marks?.scheduled, marks?.running),
      run_seconds: seconds(marks?.running, marks?.ended),
      copy_back_seconds: this.copyBackSeconds,
    };
    // A busy API server must not cost the counters: the events get three seconds.
    if (name)
      phases.pull_seconds = await Promise.race([
        pullSeconds(this.cluster, name).catch(() => undefined),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref()),
      ]);
    const terminated = name
      ? workloadStatus(this.state.pods.get(name) ?? {})?.state?.terminated
      : undefined;
    // An out-of-memory kill can take the counting shell too: the engine puts the peak at the
    // limit then (engine/verdict.ts).
    const usage = parseUsage(terminated?.message);
    return {
      phases: Object.fromEntries(
        Object.entries(phases).filter((entry): entry is [string, number] => entry[1] !== undefined),
      ),
      ...(usage ? { usage } : {}),
    };
  }

  private async sendWorkspace(pod: string): Promise<void> {
    if (this.options.mounts.length === 0) {
      // Nothing to send: the keeper is ready at once.
      await execReady(this.cluster, pod).catch(() => undefined);
      return;
    }
    const started = Date.now();
    try {
      // A dropped exec connection sends it all again: unpacking over a partial copy is safe,
      // and the keeper reports ready only at the end.
      await withRetries('Sending the workspace', () =>
        sendMounts(
          this.cluster,
          pod,
          this.options.mounts,
          this.scratch,
          this.log,
          this.options.limit,
        ),
      );
      this.log(`The workspace is in pod ${pod} (${((Date.now() - started) / 1000).toFixed(1)}s).`);
    } catch (error) {
      this.dispatch({ kind: 'send-failed', pod, message: apiMessage(error) });
    }
  }

  /** Brings back what the run made; resolves with an error message, or undefined when all came. */
  private async collectResults(pod: string): Promise<string | undefined> {
    const started = Date.now();
    try {
      // Packed and fetched again after a dropped exec connection: the keeper holds the pod
      // until the last step marks the results collected.
      const collected = await withRetries('Bringing back the results', () =>
        collectMounts(this.cluster, pod, this.options.mounts, this.scratch, this.options.limit),
      );
      await applyCollected(collected, this.options.mounts, this.options.workspace);
      this.copyBackSeconds = (Date.now() - started) / 1000;
      this.log(
        `Brought back what the run made from pod ${pod} (${this.copyBackSeconds.toFixed(1)}s).`,
      );
      return undefined;
    } catch (error) {
      const message = apiMessage(error);
      this.log(`Bringing back what the run made from pod ${pod} failed: ${message}`);
      return message;
    }
  }

  private async logEvents(pod: string): Promise<void> {
    try {
      const events = await this.cluster.core.listNamespacedEvent({
        namespace: this.cluster.namespace,
        fieldSelector: `involvedObject.name=${pod}`,
      });
      this.log(`Events of pod ${pod}:`);
      for (const e of events.items) this.log(`  ${e.type} ${e.reason}: ${e.message}`);
    } catch (error) {
      this.log(`Reading the events of pod ${pod} failed: ${apiMessage(error)}`);
    }
  }

  wait(): Promise<ExitStatus> {
    return this.verdict;
  }

  /** The workload container's log of each pod in turn, the newest attempt last. */
  async output(onChunk: (chunk: OutputChunk) => void, signal?: AbortSignal): Promise<void> {
    for (let index = 0; !signal?.aborted;) {
      const name = this.state.order[index];
      if (name === undefined) {
        if (this.state.settled) return;
        await this.nextChange();
        continue;
      }
      const pod = this.state.pods.get(name);
      const state = pod ? workloadStatus(pod)?.state : undefined;
      if (state?.running || state?.terminated) {
        await this.followLog(name, index++, onChunk, signal);
      } else if (this.state.settled || !pod || pod.status?.phase === 'Failed') {
        // Never started, and never will: a pod that never starts has no log to read.
        index++;
      } else {
        await this.nextChange();
      }
    }
  }

  private async followLog(
    name: string,
    attempt: number,
    onChunk: (chunk: OutputChunk) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.state.order.length > 1 || attempt > 0)
      this.log(`── output of pod ${name} (attempt ${attempt + 1}) ──`);
    await followPodLog(
      {
        open: (request, s) => openPodLog(this.cluster, name, WORKLOAD_CONTAINER, request, s),
        running: async () => {
          const current = this.state.pods.get(name);
          return (
            current !== undefined &&
            !workloadStatus(current)?.state?.terminated &&
            !this.stop$.signal.aborted
          );
        },
      },
      (line) => onChunk({ stream: 'stdout', data: line }),
      {
        ...(signal ? { signal } : {}),
        onNotice: (text) =>
          this.dispatch({
            kind: 'note',
            key: `${name}/log:${text}`,
            message: `The log of pod ${name}: ${text}`,
          }),
      },
    ).catch((error: unknown) =>
      this.log(`Reading the log of pod ${name} failed: ${apiMessage(error)}`),
    );
  }

  /** A copy of a folder of the pod whose workload runs now, packed by its keeper. */
  async peek(target: string): Promise<string | undefined> {
    const { order, pods, settled, stopping } = this.state;
    const running = [...order].reverse().find((name) => {
      const pod = pods.get(name);
      return pod !== undefined && workloadStatus(pod)?.state?.running !== undefined;
    });
    if (!running || settled || stopping) return undefined;
    const into = path.join(this.scratch, 'peek');
    const found = await peekFolder(this.cluster, running, target, into, this.options.limit);
    return found ? into : undefined;
  }

  async stop(graceSeconds: number): Promise<void> {
    this.dispatch({ kind: 'stopping' });
    await deleteJob(this.cluster, this.id, graceSeconds);
  }

  close(): void {
    this.unsubscribe();
    this.stop$.abort();
    this.changed();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** The kubelet's "Successfully pulled image … in 1.2s" for the pod's first container; 0 when present. */
async function pullSeconds(cluster: Cluster, pod: string): Promise<number | undefined> {
  const events = await cluster.core.listNamespacedEvent({
    namespace: cluster.namespace,
    fieldSelector: `involvedObject.name=${pod}`,
  });
  const pulled = events.items
    .filter((e) => e.reason === 'Pulled')
    .sort((a, b) => eventTime(a) - eventTime(b))[0];
  if (!pulled?.message) return undefined;
  if (/already present/i.test(pulled.message)) return 0;
  const took = / in ((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)/.exec(pulled.message);
  return took ? goDuration(took[1]!) : undefined;
}
