/**
 * RunSpec → the Kubernetes objects of one run: a Job (created suspended), the Secret holding its
 * secret environment and the registry credentials, and the ConfigMap holding the workflow file,
 * both owned by the Job so they go with it. Pure: the same spec always gives the same objects,
 * which is what dry-run prints.
 *
 * The pod: the keeper (a native sidecar, the workload's image) receives the workspace over exec
 * and holds a startup probe until it has, so the workload starts on a complete workspace; after
 * the workload ends it holds the pod until the results were fetched (transfer.ts). The two do
 * not share a process namespace: the workload cannot see the keeper's processes, signal them or
 * reach its files through /proc. It is PID 1 of its own container, where the usage shell
 * (usage.ts) passes SIGTERM on, so a plain shell still stops as it does under Docker's init.
 */
import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1Job,
  V1PodTemplateSpec,
  V1ResourceRequirements,
  V1Secret,
} from '@kubernetes/client-node';
import type { KubernetesTarget } from '../../config/kubernetes.js';
import type { PullPolicy } from '../../config/settings.js';
import type { RunSpec } from '../types.js';
import { registryOf } from '../docker/image.js';
import { CONTROL_DIR, KEEPER_CONTAINER, KEEPER_SCRIPT, READY_MARKER } from './transfer.js';
import { usageWrapper } from '../usage.js';

/** The workload's container name: podFailurePolicy and log reads name it. */
export const WORKLOAD_CONTAINER = 'workload';
/** How often the Job may retry a pod lost to the infrastructure (eviction, node drain). */
export const DISRUPTION_RETRIES = 3;
/**
 * The pod's grace after SIGTERM: the workload's, when stopped at its deadline, and the keeper's
 * for handing back the results afterwards.
 */
export const TERMINATION_GRACE_SECONDS = 60;
/** Where the workflow file from the ConfigMap appears in the pod. */
export const WORKFLOW_DIR = '/cook/workflow';
/** How long the workload waits for the workspace to arrive (the keeper's startup probe). */
export const RECEIVE_TIMEOUT_SECONDS = 600;

export interface JobObjects {
  readonly job: V1Job;
  /** Secret env and, with registry credentials, the pull secret: one Secret, owned by the Job. */
  readonly secret?: V1Secret;
  /** The workflow file, mounted read-only into the pod. */
  readonly configMap?: V1ConfigMap;
}

export interface JobOptions {
  readonly namespace: string;
  readonly target: KubernetesTarget;
  readonly submittedAt: Date;
  /** The workflow file's content, when the spec names one (read by the caller). */
  readonly workflowContent?: string;
  /**
   * One Indexed Job for shards that run at once: `count` indexes (each a shard, its pods
   * labelled with the index), `parallelism` of them at a time, named after `id` rather than the
   * spec's own run id. Retries are counted per index, and a workload's non-zero exit fails only
   * its own index.
   */
  readonly indexed?: { readonly id: string; readonly count: number; readonly parallelism: number };
}

const PULL_POLICIES: Record<PullPolicy, string> = {
  always: 'Always',
  'if-not-present': 'IfNotPresent',
  never: 'Never',
};

export function jobName(runId: string): string {
  return `prodigy-${runId}`;
}

export function secretName(runId: string): string {
  return `prodigy-${runId}-secrets`;
}

export function configMapName(runId: string): string {
  return `prodigy-${runId}-workflow`;
}

/** The volume of the spec's i-th host folder. */
function mountVolume(index: number): string {
  return `mount-${index}`;
}

export function buildJobObjects(spec: RunSpec, options: JobOptions): JobObjects {
  const container = spec.container;
  if (!container) throw new Error('The Kubernetes runtime needs a container spec.');
  const id = options.indexed?.id ?? spec.runId;
  const name = jobName(id);
  const secret = secretName(id);
  const labels = {
    ...spec.labels,
    'app.kubernetes.io/name': 'prodigy',
    'app.kubernetes.io/managed-by': 'cook-action',
    'app.kubernetes.io/instance': name,
  };
  const secretKeys = Object.keys(spec.secretEnv);
  const pullSecretKey = '.dockerconfigjson';
  const hasSecret = secretKeys.length > 0 || container.registryAuth !== undefined;

  const workflowFile =
    spec.workflowFile && options.workflowContent !== undefined
      ? {
          key: 'workflow.yml',
          name: configMapName(id),
          argIndex: spec.workflowFile.argIndex,
        }
      : undefined;
  const command = [...spec.argv];
  if (workflowFile) command[workflowFile.argIndex] = `${WORKFLOW_DIR}/${workflowFile.key}`;
  // The keeper fills every volume; the workload may not write to a read-only one.
  const mounts = spec.mounts.map((mount, index) => ({
    name: mountVolume(index),
    mountPath: mount.target,
  }));
  const workloadMounts = spec.mounts.map((mount, index) => ({
    ...mounts[index]!,
    ...(mount.readOnly ? { readOnly: true } : {}),
  }));

  const keeper: V1Container = {
    name: KEEPER_CONTAINER,
    image: container.image,
    imagePullPolicy: PULL_POLICIES[container.pullPolicy],
    // A native sidecar: started before the workload, stopped after it.
    restartPolicy: 'Always',
    command: ['sh', '-c', KEEPER_SCRIPT],
    startupProbe: {
      exec: { command: ['test', '-e', READY_MARKER] },
      periodSeconds: 1,
      failureThreshold: RECEIVE_TIMEOUT_SECONDS,
    },
    resources: { requests: { cpu: '10m', memory: '32Mi' } },
    securityContext: restrictedContainer(container.capabilities, container.user),
    volumeMounts: [...mounts, { name: 'control', mountPath: CONTROL_DIR }],
  };

  const env: V1EnvVar[] = [
    ...Object.entries(spec.env).map(([key, value]) => ({ name: key, value })),
    ...secretKeys.map((key) => ({
      name: key,
      valueFrom: { secretKeyRef: { name: secret, key: `env.${key}` } },
    })),
  ];

  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: options.namespace,
      labels,
      annotations: {
        'io.prodigy.cook-action/workflow': spec.origin.workflow ?? '',
        'io.prodigy.cook-action/submitter': spec.origin.submitter,
        'io.prodigy.cook-action/submitted-at': options.submittedAt.toISOString(),
      },
    },
    spec: {
      // Created suspended: the Secret it needs is created next, owned by the Job, and only then
      // does the Job start its pod.
      suspend: true,
      ttlSecondsAfterFinished: options.target.ttlSecondsAfterFinished,
      ...(spec.timeoutMs === undefined
        ? {}
        : { activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)) }),
      ...(options.indexed
        ? {
            completionMode: 'Indexed',
            completions: options.indexed.count,
            parallelism: options.indexed.parallelism,
            backoffLimitPerIndex: DISRUPTION_RETRIES,
          }
        : { backoffLimit: DISRUPTION_RETRIES }),
      podFailurePolicy: {
        // The first rule that matches decides, so disruption comes first: an evicted pod's
        // workload dies of the SIGTERM (143), which the second rule alone would call final.
        rules: [
          // A pod lost to the infrastructure (eviction, preemption, drain) is started again,
          // and does not count against the retries.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          // The workload's own non-zero exit is its answer: never retried.
          {
            action: options.indexed ? 'FailIndex' : 'FailJob',
            onExitCodes: { containerName: WORKLOAD_CONTAINER, operator: 'NotIn', values: [0] },
          },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          shareProcessNamespace: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          ...(options.target.serviceAccount
            ? { serviceAccountName: options.target.serviceAccount }
            : { automountServiceAccountToken: false }),
          ...(container.registryAuth ? { imagePullSecrets: [{ name: secret }] } : {}),
          securityContext: {
            seccompProfile: { type: 'RuntimeDefault' },
            ...userSecurityContext(container.user),
          },
          initContainers: [keeper],
          containers: [
            {
              name: WORKLOAD_CONTAINER,
              image: container.image,
              imagePullPolicy: PULL_POLICIES[container.pullPolicy],
              // The workload, in a shell that passes signals on and leaves its cgroup counters
              // in the termination message when it exits (runtime/usage.ts).
              command: [
                'sh',
                '-c',
                usageWrapper('/dev/termination-log'),
                'cook-workload',
                ...command,
              ],
              workingDir: spec.workdir,
              env,
              resources: resources(spec),
              securityContext: restrictedContainer(container.capabilities, container.user),
              volumeMounts: [
                ...workloadMounts,
                ...(workflowFile
                  ? [{ name: 'workflow', mountPath: WORKFLOW_DIR, readOnly: true }]
                  : []),
              ],
            },
          ],
          volumes: [
            // Bounded (transfer-limit): a workload that fills its disk is evicted, not the node.
            ...mounts.map((mount) => ({
              name: mount.name,
              emptyDir: { sizeLimit: String(spec.transferLimit.bytes) },
            })),
            // The archives going out, and the commits, wait here.
            { name: 'control', emptyDir: { sizeLimit: String(2 * spec.transferLimit.bytes) } },
            ...(workflowFile ? [{ name: 'workflow', configMap: { name: workflowFile.name } }] : []),
          ],
        },
      },
    },
  };

  const objects: JobObjects = {
    job: options.target.podTemplate ? withPodTemplate(job, options.target.podTemplate) : job,
    ...(hasSecret
      ? {
          secret: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: secret, namespace: options.namespace, labels },
            // Opaque with the pull credentials under .dockerconfigjson: kubelet reads that key
            // from any Secret named in imagePullSecrets.
            type: container.registryAuth ? 'kubernetes.io/dockerconfigjson' : 'Opaque',
            stringData: {
              ...Object.fromEntries(secretKeys.map((key) => [`env.${key}`, spec.secretEnv[key]!])),
              ...(container.registryAuth
                ? { [pullSecretKey]: dockerConfigJson(container.image, container.registryAuth) }
                : {}),
            },
          },
        }
      : {}),
    ...(workflowFile
      ? {
          configMap: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: workflowFile.name, namespace: options.namespace, labels },
            data: { [workflowFile.key]: options.workflowContent! },
          },
        }
      : {}),
  };
  return objects;
}

/** Least privilege, as on Docker: every capability dropped but the kept ones, no escalation. */
function restrictedContainer(capabilities: readonly string[], user: string | undefined) {
  const uid = user?.split(':')[0];
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'], ...(capabilities.length ? { add: [...capabilities] } : {}) },
    // Only a numeric user can be checked before the image is pulled; a named one is the image's.
    ...(uid !== undefined && /^\d+$/.test(uid) && uid !== '0' ? { runAsNonRoot: true } : {}),
  };
}

function resources(spec: RunSpec): V1ResourceRequirements {
  const container = spec.container!;
  const amounts: Record<string, string> = {};
  if (container.cpu) amounts.cpu = `${container.cpu.millicores}m`;
  if (container.memory) amounts.memory = String(container.memory.bytes);
  const gpus = container.gpus === 'all' ? undefined : container.gpus;
  if (gpus !== undefined) amounts['nvidia.com/gpu'] = String(gpus);
  if (Object.keys(amounts).length === 0) return {};
  return { requests: { ...amounts }, limits: { ...amounts } };
}

function userSecurityContext(user: string | undefined): Record<string, number> {
  if (!user) return {};
  const [uid, gid] = user.split(':');
  const result: Record<string, number> = {};
  if (uid !== undefined && /^\d+$/.test(uid)) result.runAsUser = Number(uid);
  if (gid !== undefined && /^\d+$/.test(gid)) result.runAsGroup = Number(gid);
  return result;
}

function dockerConfigJson(image: string, auth: { username: string; password: string }): string {
  // An image without a registry host is Docker Hub's, which the kubelet files under docker.io.
  const registry = registryOf(image) ?? 'docker.io';
  const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  return JSON.stringify({
    auths: { [registry]: { username: auth.username, password: auth.password, auth: encoded } },
  });
}

/**
 * The user's pod-template YAML merged over the Job's template: mappings merge key by key, and
 * lists of named things (containers, volumes, env) merge by name, as a strategic merge would.
 */
export function withPodTemplate(job: V1Job, overlay: Readonly<Record<string, unknown>>): V1Job {
  const template = job.spec!.template as unknown as Record<string, unknown>;
  return {
    ...job,
    spec: { ...job.spec!, template: merge(template, overlay) as V1PodTemplateSpec },
  };
}

function merge(base: unknown, overlay: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(overlay)) {
    const named = (items: unknown[]) =>
      items.every((item) => item && typeof item === 'object' && 'name' in (item as object));
    if (!named(base) || !named(overlay)) return overlay;
    const result = [...base] as { name: string }[];
    for (const item of overlay as { name: string }[]) {
      const index = result.findIndex((existing) => existing.name === item.name);
      if (index >= 0) result[index] = merge(result[index], item) as { name: string };
      else result.push(item);
    }
    return result;
  }
  if (isMapping(base) && isMapping(overlay)) {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(overlay)) {
      result[key] = key in base ? merge(base[key], value) : value;
    }
    return result;
  }
  return overlay;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
