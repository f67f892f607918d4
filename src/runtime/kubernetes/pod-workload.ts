/**
 * One run's Job as the engine sees it, a RunningWorkload: its pods and the Job followed by
 * watches, the workspace sent in and the results brought back through the keeper, the log
 * followed, and the verdict taken from the workload container's own state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type {
  ExitStatus,
  OutputChunk,
  RunSpec,
  RunningWorkload,
  WorkloadReport,
} from '../types.js';
import { apiMessage, type Cluster, withRetries } from './client.js';
import { DISRUPTION_RETRIES, WORKLOAD_CONTAINER } from './manifest.js';
import { followPodLog, openPodLog } from './pod-logs.js';
import { execScript } from './exec.js';
import {
  applyCollected,
  collectMounts,
  COLLECTED_MARKER,
  KEEPER_CONTAINER,
  type Mount,
  peekFolder,
  sendMounts,
} from './transfer.js';
import { parseUsage } from '../usage.js';
import { listAndWatch } from './watch.js';
import { deleteJob, execReady } from './job-api.js';
import {
  eventTime,
  goDuration,
  indexSet,
  jobPodSelector,
  keeperStatus,
  workloadStatus,
} from './pods.js';

/** Waiting reasons that no amount of waiting mends: the run fails at once, with the reason. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/**
 * How long a pod may stay unschedulable before the run fails, saying why (the runner's
 * COOK_ACTION_SCHEDULING_TIMEOUT, in seconds, changes it).
 */
export const SCHEDULING_TIMEOUT_MS = 120_000;

export interface TransferOptions {
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

/** A Job that was started: its pods and the Job itself followed by watches. */
export class KubernetesWorkload implements RunningWorkload {
  readonly id: string;
  private readonly stop$ = new AbortController();
  private readonly pods = new Map<string, V1Pod>();
  private readonly order: string[] = [];
  private job: V1Job | undefined;
  private listeners: (() => void)[] = [];
  private readonly verdict: Promise<ExitStatus>;
  private settle!: (status: ExitStatus) => void;
  private settled = false;
  private readonly said = new Set<string>();
  private unschedulableSince: number | undefined;
  readonly enforcesTimeout: boolean;
  /** Pods whose workspace was sent (or is being sent), and the one whose results came back. */
  private readonly sent = new Set<string>();
  /** Pods whose keeper was let go without a collection (deleted under the workload). */
  private readonly released = new Set<string>();
  private collecting: Promise<string | undefined> | undefined;
  private stopping = false;
  private readonly scratch = mkdtempSync(path.join(os.tmpdir(), 'cook-transfer-'));
  /** When each pod was first seen created, scheduled, running and ended (this runner's clock). */
  private readonly marks = new Map<
    string,
    { seen: number; scheduled?: number; running?: number; ended?: number }
  >();
  private copyBackSeconds: number | undefined;

  constructor(
    private readonly cluster: Cluster,
    name: string,
    private readonly log: (message: string) => void,
    private readonly transfer: TransferOptions,
  ) {
    this.id = name;
    this.enforcesTimeout = transfer.enforcesTimeout;
    this.verdict = new Promise((resolve) => (this.settle = resolve));
    const ns = cluster.namespace;
    const watchFailed = (what: string) => (error: unknown) =>
      this.finish({
        exitCode: undefined,
        oomKilled: false,
        error: `watching the ${what} failed: ${apiMessage(error)}`,
      });
    void listAndWatch<V1Pod>({
      config: cluster.config,
      path: `/api/v1/namespaces/${ns}/pods`,
      query: { labelSelector: jobPodSelector(name, transfer.index) },
      list: () =>
        cluster.core.listNamespacedPod({
          namespace: ns,
          labelSelector: jobPodSelector(name, transfer.index),
        }),
      onEvent: (type, pod) => this.onPod(type, pod),
      signal: this.stop$.signal,
    }).catch(watchFailed('pods'));
    void listAndWatch<V1Job>({
      config: cluster.config,
      path: `/apis/batch/v1/namespaces/${ns}/jobs`,
      query: { fieldSelector: `metadata.name=${name}` },
      list: () =>
        cluster.batch.listNamespacedJob({ namespace: ns, fieldSelector: `metadata.name=${name}` }),
      onEvent: (type, job) => this.onJob(type, job),
      signal: this.stop$.signal,
    }).catch(watchFailed('Job'));
    const timer = setInterval(() => this.checkScheduling(), 1000);
    this.stop$.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  private changed(): void {
    for (const listener of this.listeners.splice(0)) listener();
  }

  /** Resolves at the next change of a pod or the Job. */
  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  private sayOnce(key: string, message: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.log(message);
  }

  private onPod(type: string, pod: V1Pod): void {
    const name = pod.metadata!.name!;
    if (!this.pods.has(name)) this.order.push(name);
    if (type !== 'DELETED') this.pods.set(name, pod);
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    this.mark(name, pod, scheduled?.status === 'True');
    if (scheduled?.status === 'True')
      this.sayOnce(`${name}/scheduled`, `Pod ${name} scheduled on node ${pod.spec?.nodeName}.`);
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
      this.unschedulableSince ??= Date.now();
      this.sayOnce(
        `${name}/unschedulable`,
        `Pod ${name} cannot be scheduled yet: ${scheduled.message}`,
      );
    } else if (scheduled?.status === 'True') this.unschedulableSince = undefined;
    const status = workloadStatus(pod);
    // The keeper starts first and pulls the same image: a pull failure shows on either.
    for (const container of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      const waiting = container.state?.waiting;
      if (waiting?.reason === 'ContainerCreating' || waiting?.reason === 'PodInitializing')
        this.sayOnce(
          `${name}/creating`,
          `Pulling ${pod.spec?.containers[0]?.image} (pull policy ${pod.spec?.containers[0]?.imagePullPolicy}) and creating the containers…`,
        );
      if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
        void this.failWithEvents(
          name,
          `the ${container.name} container cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trim(),
        );
      }
    }
    const keeper = keeperStatus(pod);
    if (keeper?.state?.running && !this.sent.has(name) && type !== 'DELETED') {
      this.sent.add(name);
      void this.sendWorkspace(name);
    }
    // A pod deleted under a running workload (deadline, eviction, someone else): the kubelet
    // stops all its containers at once and reports none ended until all have, so the results
    // cannot be fetched. Release the keeper at once rather than let it hold the pod's grace.
    if (
      pod.metadata?.deletionTimestamp &&
      keeper?.state?.running &&
      !status?.state?.terminated &&
      this.collecting === undefined &&
      !this.released.has(name)
    ) {
      this.released.add(name);
      if (!this.stopping)
        this.log(
          `Pod ${name} is being deleted before its workload ended: only its log comes back.`,
        );
      void execScript(this.cluster, name, KEEPER_CONTAINER, `touch ${COLLECTED_MARKER}`).catch(
        () => undefined,
      );
    }
    if (status?.state?.running) this.sayOnce(`${name}/running`, `Pod ${name} is running.`);
    const terminated = status?.state?.terminated;
    if (
      terminated &&
      keeper?.state?.running &&
      this.collecting === undefined &&
      !this.stopping &&
      this.transfer.mounts.length > 0
    ) {
      this.collecting = this.collectResults(name);
    }
    if (terminated) {
      this.sayOnce(
        `${name}/terminated`,
        `Pod ${name} finished: exit code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}.`,
      );
      // Exit 0 of the newest pod's workload decides the Job: the pod will succeed (a sidecar's
      // exit does not count) and the Job complete. The kubelet and the Job controller take
      // seconds more to say so; the verdict need not wait for them. Any other exit waits for
      // the Job, which may yet retry it as a disruption.
      if (
        terminated.exitCode === 0 &&
        !pod.metadata?.deletionTimestamp &&
        name === this.order.at(-1)
      )
        this.finish(this.lastExit());
    }
    // Evicted by the kubelet (node pressure), or disrupted through the API (eviction,
    // preemption, drain): the podFailurePolicy lets the Job start another pod.
    const disruption = pod.status?.conditions?.find(
      (c) => c.type === 'DisruptionTarget' && c.status === 'True',
    );
    if ((pod.status?.reason === 'Evicted' || disruption) && !this.said.has(`${name}/evicted`)) {
      this.sayOnce(
        `${name}/evicted`,
        `Pod ${name} was evicted (${disruption?.reason ?? pod.status?.reason}: ${disruption?.message ?? pod.status?.message}); the Job starts it again (a disruption is not counted against its ${DISRUPTION_RETRIES} retries).`,
      );
      void this.logEvents(name);
    }
    this.changed();
  }

  private mark(name: string, pod: V1Pod, scheduled: boolean): void {
    const now = Date.now();
    let marks = this.marks.get(name);
    if (!marks) this.marks.set(name, (marks = { seen: now }));
    if (scheduled) marks.scheduled ??= now;
    const state = workloadStatus(pod)?.state;
    if (state?.running || state?.terminated) marks.running ??= now;
    if (state?.terminated) marks.ended ??= now;
  }

  /**
   * The newest pod's phases as this runner saw them, the kubelet's own pull time from the pod's
   * events, and the counters the workload's shell left in its termination message.
   */
  async report(): Promise<WorkloadReport> {
    const name = this.order.at(-1);
    const marks = name ? this.marks.get(name) : undefined;
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
        this.pullSeconds(name).catch(() => undefined),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref()),
      ]);
    const terminated = name
      ? workloadStatus(this.pods.get(name) ?? {})?.state?.terminated
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

  /** The kubelet's "Successfully pulled image … in 1.2s" for the pod's first container; 0 when present. */
  private async pullSeconds(pod: string): Promise<number | undefined> {
    const events = await this.cluster.core.listNamespacedEvent({
      namespace: this.cluster.namespace,
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

  private onJob(type: string, job: V1Job): void {
    if (type === 'DELETED') {
      this.finish({ ...this.lastExit(), error: 'the Job was deleted' });
      return;
    }
    this.job = job;
    const conditions = job.status?.conditions ?? [];
    const target = conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
    if (target?.reason === 'DeadlineExceeded')
      this.sayOnce(
        'deadline',
        `The Job reached its deadline (activeDeadlineSeconds): its pod is stopped.`,
      );
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
    const index = this.transfer.index;
    if (index !== undefined && indexSet(job.status?.completedIndexes).has(index)) {
      this.finish(this.lastExit());
    } else if (index !== undefined && indexSet(job.status?.failedIndexes).has(index)) {
      // This index is done for, whatever the others do: its workload's exit, or its retries spent.
      const exit = this.lastExit();
      if (exit.exitCode !== undefined && !failed) this.finish(exit);
      else if (!failed)
        void this.failWithEvents(
          this.order.at(-1),
          `index ${index} failed: its retries are spent`,
          exit,
        );
    }
    if (complete) this.finish(this.lastExit());
    else if (failed) {
      const exit = this.lastExit();
      if (failed.reason === 'DeadlineExceeded')
        this.finish({ ...exit, timedOut: true, error: `DeadlineExceeded: ${failed.message}` });
      else if (failed.reason === 'BackoffLimitExceeded') {
        void this.failWithEvents(
          this.order.at(-1),
          `the retry budget is spent: ${failed.message}`,
          exit,
        );
      } else
        this.finish({
          ...exit,
          ...(exit.exitCode === undefined ? { error: `${failed.reason}: ${failed.message}` } : {}),
        });
    }
    this.changed();
  }

  /** The exit code and OOM flag of the newest pod's workload container, if it ended. */
  private lastExit(): ExitStatus {
    for (const name of [...this.order].reverse()) {
      const terminated = workloadStatus(this.pods.get(name) ?? {})?.state?.terminated;
      if (terminated)
        return { exitCode: terminated.exitCode, oomKilled: terminated.reason === 'OOMKilled' };
    }
    return { exitCode: undefined, oomKilled: false };
  }

  private checkScheduling(): void {
    if (
      this.unschedulableSince !== undefined &&
      Date.now() - this.unschedulableSince > this.transfer.schedulingTimeoutMs
    ) {
      void this.failWithEvents(
        this.order.at(-1),
        `the pod could not be scheduled within ${this.transfer.schedulingTimeoutMs / 1000}s`,
      );
    }
  }

  private async failWithEvents(
    pod: string | undefined,
    reason: string,
    exit?: ExitStatus,
  ): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (pod) await this.logEvents(pod);
    this.settle({ ...(exit ?? { exitCode: undefined, oomKilled: false }), error: reason });
    this.changed();
  }

  private async sendWorkspace(pod: string): Promise<void> {
    if (this.transfer.mounts.length === 0) {
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
          this.transfer.mounts,
          this.scratch,
          this.log,
          this.transfer.limit,
        ),
      );
      this.log(`The workspace is in pod ${pod} (${((Date.now() - started) / 1000).toFixed(1)}s).`);
    } catch (error) {
      if (this.settled || this.stopping) return;
      void this.failWithEvents(pod, `sending the workspace failed: ${apiMessage(error)}`);
    }
  }

  /** Brings back what the run made; resolves with an error message, or undefined when all came. */
  private async collectResults(pod: string): Promise<string | undefined> {
    const started = Date.now();
    try {
      // Packed and fetched again after a dropped exec connection: the keeper holds the pod
      // until the last step marks the results collected.
      const collected = await withRetries('Bringing back the results', () =>
        collectMounts(this.cluster, pod, this.transfer.mounts, this.scratch, this.transfer.limit),
      );
      await applyCollected(collected, this.transfer.mounts, this.transfer.workspace);
      this.copyBackSeconds = (Date.now() - started) / 1000;
      this.log(
        `Brought back what the run made from pod ${pod} (${((Date.now() - started) / 1000).toFixed(1)}s).`,
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

  private finish(status: ExitStatus): void {
    if (this.settled) return;
    this.settled = true;
    const collecting = this.collecting;
    if (!collecting) {
      this.settle(status);
      this.changed();
      return;
    }
    void collecting.then((resultsError) => {
      this.settle(resultsError ? { ...status, resultsError } : status);
      this.changed();
    });
  }

  wait(): Promise<ExitStatus> {
    return this.verdict;
  }

  async output(onChunk: (chunk: OutputChunk) => void, signal?: AbortSignal): Promise<void> {
    let index = 0;
    for (;;) {
      if (signal?.aborted) return;
      const name = this.order[index];
      if (name === undefined) {
        if (this.settled) return;
        await this.nextChange();
        continue;
      }
      const pod = this.pods.get(name);
      const state = pod ? workloadStatus(pod)?.state : undefined;
      if (!state?.running && !state?.terminated) {
        // Not started yet; a pod that never starts has no log to read.
        if (this.settled || !pod || pod.status?.phase === 'Failed') {
          index++;
          continue;
        }
        await this.nextChange();
        continue;
      }
      if (this.order.length > 1 || index > 0)
        this.log(`── output of pod ${name} (attempt ${index + 1}) ──`);
      await followPodLog(
        {
          open: (request, s) => openPodLog(this.cluster, name, WORKLOAD_CONTAINER, request, s),
          running: async () => {
            const current = this.pods.get(name);
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
            this.sayOnce(`${name}/log:${text}`, `The log of pod ${name}: ${text}`),
        },
      ).catch((error: unknown) =>
        this.log(`Reading the log of pod ${name} failed: ${apiMessage(error)}`),
      );
      index++;
    }
  }

  /** A copy of a folder of the pod whose workload runs now, packed by its keeper. */
  async peek(target: string): Promise<string | undefined> {
    const running = [...this.order].reverse().find((name) => {
      const pod = this.pods.get(name);
      return pod !== undefined && workloadStatus(pod)?.state?.running !== undefined;
    });
    if (!running || this.settled || this.stopping) return undefined;
    const into = path.join(this.scratch, 'peek');
    const found = await peekFolder(this.cluster, running, target, into, this.transfer.limit);
    return found ? into : undefined;
  }

  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    await deleteJob(this.cluster, this.id, graceSeconds);
  }

  close(): void {
    this.stop$.abort();
    this.changed();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
