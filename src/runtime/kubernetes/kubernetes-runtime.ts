/** The Kubernetes runtime: one Job on the cluster a kubeconfig names, followed with watches. */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { KubernetesTarget } from '../../config/kubernetes.js';
import { Labels } from '../../config/names.js';
import type { ContainerRuntime, RunSpec, RunningWorkload } from '../types.js';
import { apiMessage, type Cluster, connect, withRetries } from './client.js';
import { buildJobObjects, jobName, type JobOptions } from './manifest.js';
import { preflight } from './preflight.js';
import type { IndexedOptions } from './indexed-job.js';
import { deleteJob, deletedIfAny, ignoreNotFound, waitGone } from './job-api.js';
import { JobEvents } from './job-events.js';
import { KubernetesWorkload, SCHEDULING_TIMEOUT_MS } from './pod-workload.js';

/** What a Kubernetes runtime connects to; everything about a run comes in its RunSpec. */
export interface KubernetesRuntimeOptions {
  readonly target: KubernetesTarget;
  readonly now?: () => Date;
}

export function createKubernetesRuntime(options: KubernetesRuntimeOptions): ContainerRuntime {
  return new KubernetesRuntime(options);
}

export class KubernetesRuntime implements ContainerRuntime {
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
    const { name, suspended } = await this.createJob(spec);
    const workload = this.follow(name, this.events(name), spec, this.log);
    if (suspended) await this.unsuspend(name);
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
    const { name, suspended } = await this.createJob(specs[0]!, indexed);
    logs.forEach((log, index) =>
      log(
        `Index ${index} of Indexed Job ${name} runs this shard (${indexed.parallelism} at a time).`,
      ),
    );
    // One watch of the pods, one of the Job and one clock for every index: each workload is
    // given its own index's pods.
    const events = this.events(name);
    const workloads = specs.map((spec, index) =>
      this.follow(name, events, spec, logs[index]!, index),
    );
    if (suspended) await this.unsuspend(name);
    return workloads;
  }

  private events(name: string): JobEvents {
    return new JobEvents({ cluster: this.connected(), name });
  }

  private follow(
    name: string,
    events: JobEvents,
    spec: RunSpec,
    log: (message: string) => void,
    index?: number,
  ): KubernetesWorkload {
    const workload = new KubernetesWorkload(this.connected(), name, events, log, {
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

  /**
   * Creates the Job, then its Secret and ConfigMap at once, owned by it: three round trips with
   * the start, one when the pod needs neither (the Job then starts at once).
   */
  private async createJob(
    spec: RunSpec,
    indexed?: IndexedOptions,
  ): Promise<{ name: string; suspended: boolean }> {
    if (this.closed) throw new Error('The run was cleaned up; nothing more is created.');
    const cluster = this.connected();
    const { namespace } = cluster;
    const { job, secret, configMap } = buildJobObjects(
      spec,
      this.jobOptions(namespace, spec, indexed),
    );
    const name = job.metadata!.name!;
    const created = await withRetries(`Creating Job ${name}`, () =>
      cluster.batch.createNamespacedJob({ namespace, body: job }),
    );
    this.created.job = name;
    this.log(`Created Job ${name} in namespace ${namespace}.`);
    const owner = [
      { apiVersion: 'batch/v1', kind: 'Job', name, uid: created.metadata!.uid!, controller: false },
    ];
    await Promise.all([
      secret &&
        withRetries(`Creating Secret ${secret.metadata!.name}`, () =>
          cluster.core.createNamespacedSecret({
            namespace,
            body: { ...secret, metadata: { ...secret.metadata, ownerReferences: owner } },
          }),
        ).then(() => (this.created.secret = secret.metadata!.name!)),
      configMap &&
        withRetries(`Creating ConfigMap ${configMap.metadata!.name}`, () =>
          cluster.core.createNamespacedConfigMap({
            namespace,
            body: { ...configMap, metadata: { ...configMap.metadata, ownerReferences: owner } },
          }),
        ).then(() => (this.created.configMap = configMap.metadata!.name!)),
    ]);
    return { name, suspended: job.spec?.suspend === true };
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
