/** The Kubernetes runtime: one Job on the cluster a kubeconfig names, followed with watches. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoreV1Event, V1Job, V1Pod, V1ContainerStatus } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { KubernetesTarget } from '../../config/kubernetes.js';
import { Labels } from '../../config/names.js';
import type {
  ContainerRuntime,
  ExitStatus,
  OutputChunk,
  RunSpec,
  RunningWorkload,
  WorkloadReport,
} from '../types.js';
import { apiMessage, type Cluster, connect, statusOf, withRetries } from './client.js';
import {
  buildJobObjects,
  DISRUPTION_RETRIES,
  jobName,
  type JobOptions,
  WORKLOAD_CONTAINER,
} from './manifest.js';
import { followPodLog, openPodLog } from './pod-logs.js';
import { execScript } from './exec.js';
import { preflight } from './preflight.js';
import {
  applyCollected,
  collectMounts,
  COLLECTED_MARKER,
  KEEPER_CONTAINER,
  type Mount,
  peekFolder,
  READY_MARKER,
  sendMounts,
} from './transfer.js';
import { parseUsage } from '../usage.js';
import { listAndWatch } from './watch.js';

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

/** What a Kubernetes runtime connects to; everything about a run comes in its RunSpec. */
export interface KubernetesRuntimeOptions {
  readonly target: KubernetesTarget;
  readonly now?: () => Date;
}

export function createKubernetesRuntime(options: KubernetesRuntimeOptions): ContainerRuntime {
  return new KubernetesRuntime(options);
}

type IndexedOptions = NonNullable<JobOptions['indexed']>;

/**
 * Shards run at once on a cluster: one Indexed Job, each index a shard. Each shard gets a
 * runtime of its own from runtimeFor(index), used as any runtime is; the Job is created when
 * every shard has asked to start (their specs differ only in their mounts), and deleted when the
 * last one cleans up. A shard that cleans up before it started stops the others from waiting.
 */
export class IndexedJob {
  readonly #runtime: KubernetesRuntime;
  readonly #indexed: IndexedOptions;
  readonly #specs: (RunSpec | undefined)[];
  readonly #logs: ((message: string) => void)[];
  readonly #waiting: { resolve: (w: RunningWorkload) => void; reject: (e: Error) => void }[] = [];
  #connected: Promise<string> | undefined;
  #launched = false;
  #abandoned: Error | undefined;
  #left = 0;

  constructor(options: KubernetesRuntimeOptions, indexed: IndexedOptions) {
    this.#runtime = new KubernetesRuntime(options);
    this.#indexed = indexed;
    this.#specs = Array.from({ length: indexed.count }, () => undefined);
    this.#logs = Array.from({ length: indexed.count }, () => () => {});
  }

  runtimeFor(index: number): ContainerRuntime {
    return {
      kind: 'kubernetes',
      describe: (spec) => this.#runtime.describe(spec),
      prepare: async (spec, log) => {
        this.#logs[index] = log;
        this.#connected ??= this.#runtime.connect();
        log(await this.#connected);
      },
      start: (spec) => this.#arrive(index, spec),
      cleanup: () => this.#leave(index),
      sweep: (runId) => this.#runtime.sweep(runId),
    };
  }

  #arrive(index: number, spec: RunSpec): Promise<RunningWorkload> {
    if (this.#abandoned) return Promise.reject(this.#abandoned);
    this.#specs[index] = spec;
    const arrived = new Promise<RunningWorkload>((resolve, reject) => {
      this.#waiting[index] = { resolve, reject };
    });
    if (this.#specs.every((s) => s !== undefined)) void this.#launch();
    return arrived;
  }

  async #launch(): Promise<void> {
    this.#launched = true;
    try {
      const workloads = await this.#runtime.startIndexed(
        this.#specs as RunSpec[],
        this.#indexed,
        this.#logs,
      );
      workloads.forEach((workload, index) => this.#waiting[index]!.resolve(workload));
    } catch (error) {
      for (const waiting of this.#waiting) waiting?.reject(error as Error);
    }
  }

  async #leave(index: number): Promise<void> {
    if (!this.#launched && this.#specs[index] === undefined && !this.#abandoned) {
      this.#abandoned = new Error(
        `shard ${index + 1} of ${this.#indexed.count} ended before its pod could start, so the shards' Indexed Job was not created`,
      );
      for (const waiting of this.#waiting) waiting?.reject(this.#abandoned);
    }
    this.#left++;
    if (this.#left === this.#indexed.count) await this.#runtime.cleanup();
  }
}

class KubernetesRuntime implements ContainerRuntime {
  readonly kind = 'kubernetes' as const;
  private cluster: Cluster | undefined;
  private log: (message: string) => void = () => {};
  private readonly created: { job?: string; secret?: string; configMap?: string } = {};
  private readonly workloads: KubernetesWorkload[] = [];
  private closed = false;

  constructor(private readonly options: KubernetesRuntimeOptions) {}

  private jobOptions(namespace: string, spec: RunSpec, indexed?: IndexedOptions): JobOptions {
    return {
      ...(indexed ? { indexed } : {}),
      ...(spec.workflowFile
        ? { workflowContent: readFileSync(spec.workflowFile.host, 'utf8') }
        : {}),
      namespace,
      target: this.options.target,
      submittedAt: (this.options.now ?? (() => new Date()))(),
    };
  }

  describe(spec: RunSpec): string {
    const namespace = this.options.target.namespace ?? 'default';
    const { job, secret, configMap } = buildJobObjects(spec, this.jobOptions(namespace, spec));
    const documents: unknown[] = [job];
    if (configMap) documents.push(configMap);
    if (secret) {
      const hidden = Object.fromEntries(
        Object.keys(secret.stringData ?? {}).map((key) => [key, '***']),
      );
      documents.push({ ...secret, stringData: hidden });
    }
    return documents.map((doc) => stringify(doc).trimEnd()).join('\n---\n');
  }

  private connected(): Cluster {
    if (!this.cluster) this.cluster = connect(this.options.target);
    return this.cluster;
  }

  async prepare(_spec: RunSpec, log: (message: string) => void): Promise<void> {
    this.log = log;
    log(await this.connect());
  }

  /** Connects and checks the API server and every permission the run needs; says so. */
  async connect(): Promise<string> {
    const cluster = this.connected();
    const version = await preflight(cluster);
    return `Connected to ${cluster.server} (Kubernetes ${version}), namespace ${cluster.namespace}; the credentials may do all the run needs.`;
  }

  async start(spec: RunSpec): Promise<RunningWorkload> {
    const name = await this.createJob(spec);
    const workload = this.follow(name, spec, this.log);
    await this.unsuspend(name);
    return workload;
  }

  /**
   * One Indexed Job for several shards' specs, alike but for their mounts (each shard's own
   * checkout and exchange folder): index i runs specs[i] and is followed by workload i.
   */
  async startIndexed(
    specs: readonly RunSpec[],
    indexed: IndexedOptions,
    logs: readonly ((message: string) => void)[],
  ): Promise<RunningWorkload[]> {
    // What happens to the one Job concerns every shard.
    this.log = (message) => {
      for (const log of logs) log(message);
    };
    const name = await this.createJob(specs[0]!, indexed);
    logs.forEach((log, index) =>
      log(
        `Index ${index} of Indexed Job ${name} runs this shard (${indexed.parallelism} at a time).`,
      ),
    );
    const workloads = specs.map((spec, index) => this.follow(name, spec, logs[index]!, index));
    await this.unsuspend(name);
    return workloads;
  }

  private follow(
    name: string,
    spec: RunSpec,
    log: (message: string) => void,
    index?: number,
  ): KubernetesWorkload {
    const workload = new KubernetesWorkload(this.connected(), name, log, {
      mounts: spec.mounts,
      workspace: spec.workdir,
      limit: spec.transferLimit,
      enforcesTimeout: spec.timeoutMs !== undefined,
      schedulingTimeoutMs: spec.schedulingTimeoutMs ?? SCHEDULING_TIMEOUT_MS,
      ...(index === undefined ? {} : { index }),
    });
    this.workloads.push(workload);
    return workload;
  }

  /** Started only once its Secret and ConfigMap exist: its pods need them. */
  private async unsuspend(name: string): Promise<void> {
    const cluster = this.connected();
    await withRetries(`Starting Job ${name}`, () =>
      cluster.batch.patchNamespacedJob({
        name,
        namespace: cluster.namespace,
        body: [{ op: 'replace', path: '/spec/suspend', value: false }],
      }),
    );
  }

  /** Creates the Job suspended, then its Secret and ConfigMap, owned by it. */
  private async createJob(spec: RunSpec, indexed?: IndexedOptions): Promise<string> {
    if (this.closed) throw new Error('The run was cleaned up; nothing more is created.');
    const cluster = this.connected();
    const { job, secret, configMap } = buildJobObjects(
      spec,
      this.jobOptions(cluster.namespace, spec, indexed),
    );
    const name = job.metadata!.name!;
    const created = await withRetries(`Creating Job ${name}`, () =>
      cluster.batch.createNamespacedJob({ namespace: cluster.namespace, body: job }),
    );
    this.created.job = name;
    this.log(`Created Job ${name} in namespace ${cluster.namespace}.`);
    const owner = [
      { apiVersion: 'batch/v1', kind: 'Job', name, uid: created.metadata!.uid!, controller: false },
    ];
    if (secret) {
      secret.metadata!.ownerReferences = owner;
      await withRetries(`Creating Secret ${secret.metadata!.name}`, () =>
        cluster.core.createNamespacedSecret({ namespace: cluster.namespace, body: secret }),
      );
      this.created.secret = secret.metadata!.name!;
    }
    if (configMap) {
      configMap.metadata!.ownerReferences = owner;
      await withRetries(`Creating ConfigMap ${configMap.metadata!.name}`, () =>
        cluster.core.createNamespacedConfigMap({ namespace: cluster.namespace, body: configMap }),
      );
      this.created.configMap = configMap.metadata!.name!;
    }
    return name;
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    const cluster = this.cluster;
    if (!cluster) return;
    const failures: string[] = [];
    if (this.created.job) {
      await deleteJob(cluster, this.created.job, 0).catch((error: unknown) =>
        failures.push(`Job ${this.created.job}: ${apiMessage(error)}`),
      );
    }
    if (this.created.secret) {
      await ignoreNotFound(() =>
        cluster.core.deleteNamespacedSecret({
          name: this.created.secret!,
          namespace: cluster.namespace,
        }),
      ).catch((error: unknown) =>
        failures.push(`Secret ${this.created.secret}: ${apiMessage(error)}`),
      );
    }
    if (this.created.configMap) {
      await ignoreNotFound(() =>
        cluster.core.deleteNamespacedConfigMap({
          name: this.created.configMap!,
          namespace: cluster.namespace,
        }),
      ).catch((error: unknown) =>
        failures.push(`ConfigMap ${this.created.configMap}: ${apiMessage(error)}`),
      );
    }
    for (const workload of this.workloads.splice(0)) workload.close();
    if (this.created.job) await waitGone(cluster, this.created.job, 10_000);
    if (failures.length > 0) throw new Error(`Could not delete ${failures.join('; ')}`);
  }

  async sweep(runId: string): Promise<string[]> {
    const cluster = this.connected();
    const labelSelector = `${Labels.run}=${runId}`;
    const removed: string[] = [];
    const jobs = await cluster.batch.listNamespacedJob({
      namespace: cluster.namespace,
      labelSelector,
    });
    for (const job of jobs.items) {
      await deleteJob(cluster, job.metadata!.name!, 0);
      removed.push(`Job ${job.metadata!.name}`);
    }
    // The Secret and ConfigMap go by the names the Job's gives them (manifest.ts), never by a
    // listing: the Role needs no 'list secrets', which would read every Secret in the namespace.
    const names = new Set([jobName(runId), ...jobs.items.map((job) => job.metadata!.name!)]);
    for (const job of names) {
      const secret = `${job}-secrets`;
      const configMap = `${job}-workflow`;
      if (
        await deletedIfAny(() =>
          cluster.core.deleteNamespacedSecret({ name: secret, namespace: cluster.namespace }),
        )
      ) {
        removed.push(`Secret ${secret}`);
      }
      if (
        await deletedIfAny(() =>
          cluster.core.deleteNamespacedConfigMap({ name: configMap, namespace: cluster.namespace }),
        )
      ) {
        removed.push(`ConfigMap ${configMap}`);
      }
    }
    const pods = await cluster.core.listNamespacedPod({
      namespace: cluster.namespace,
      labelSelector,
    });
    for (const pod of pods.items) {
      await ignoreNotFound(() =>
        cluster.core.deleteNamespacedPod({
          name: pod.metadata!.name!,
          namespace: cluster.namespace,
          gracePeriodSeconds: 0,
        }),
      );
      removed.push(`pod ${pod.metadata!.name}`);
    }
    return removed;
  }
}

/** Marks the keeper ready when there is nothing to send. */
async function execReady(cluster: Cluster, pod: string): Promise<void> {
  await execScript(cluster, pod, KEEPER_CONTAINER, `touch ${READY_MARKER}`);
}

/** The label the Job controller puts on its pods (and, for one index, the index's label). */
function jobPodSelector(job: string, index?: number): string {
  return `batch.kubernetes.io/job-name=${job}${index === undefined ? '' : `,batch.kubernetes.io/job-completion-index=${index}`}`;
}

/** An Indexed Job's `completedIndexes` or `failedIndexes` ("0,2-4") as a set. */
export function indexSet(text: string | undefined): Set<number> {
  const set = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!range) continue;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let i = from; i <= to; i++) set.add(i);
  }
  return set;
}

/** Whether the object was there to delete. */
async function deletedIfAny(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return false;
  }
}

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/** Deletes a Job and, in the foreground, its pods, giving them graceSeconds to stop. */
async function deleteJob(cluster: Cluster, name: string, graceSeconds: number): Promise<void> {
  await ignoreNotFound(() =>
    cluster.batch.deleteNamespacedJob({
      name,
      namespace: cluster.namespace,
      propagationPolicy: 'Foreground',
      gracePeriodSeconds: graceSeconds,
    }),
  );
  // Foreground deletion waits for the pods, which keep their own grace period: shorten it.
  const pods = await cluster.core.listNamespacedPod({
    namespace: cluster.namespace,
    labelSelector: jobPodSelector(name),
  });
  await Promise.all(
    pods.items.map((pod) =>
      ignoreNotFound(() =>
        cluster.core.deleteNamespacedPod({
          name: pod.metadata!.name!,
          namespace: cluster.namespace,
          gracePeriodSeconds: graceSeconds,
        }),
      ),
    ),
  );
}

async function waitGone(cluster: Cluster, job: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const exists = await cluster.batch
      .readNamespacedJob({ name: job, namespace: cluster.namespace })
      .then(
        () => true,
        (error: unknown) => statusOf(error) !== 404,
      );
    const pods = await cluster.core.listNamespacedPod({
      namespace: cluster.namespace,
      labelSelector: jobPodSelector(job),
    });
    if (!exists && pods.items.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Job ${job} and its pods were still there ${ms / 1000}s after deletion`);
}

function workloadStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === WORKLOAD_CONTAINER);
}

function eventTime(event: CoreV1Event): number {
  const time = event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  return time ? new Date(time).getTime() : 0;
}

/** Go's time.Duration text (`1.5s`, `532ms`, `1m2.5s`) → seconds. */
export function goDuration(text: string): number | undefined {
  const units: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
  };
  let total = 0;
  let matched = '';
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * units[part[2]!]!;
    matched += part[0];
  }
  return matched === text && matched !== '' ? total : undefined;
}

function keeperStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.initContainerStatuses?.find((s) => s.name === KEEPER_CONTAINER);
}

interface TransferOptions {
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
class KubernetesWorkload implements RunningWorkload {
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
