/**
 * RunSpec → the Kubernetes objects of one run: a Job (its pod in pod-spec.ts), the Secret
 * holding its secret environment and the registry credentials (secret.ts), and the ConfigMap
 * holding the workflow file, both owned by the Job so they go with it; the Job is created
 * suspended when it has either, until they exist. Pure: the same spec always gives the same
 * objects, which is what dry-run prints.
 */
import type { V1ConfigMap, V1Job, V1JobSpec, V1PodSpec, V1Secret } from '@kubernetes/client-node';
import type { KubernetesTarget } from '../../config/kubernetes.js';
import type { RunSpec } from '../types.js';
import { podSpec, WORKLOAD_CONTAINER, type WorkflowFile } from './pod-spec.js';
import { withPodTemplate } from './pod-template.js';
import { runSecret } from './secret.js';

/** How often the Job may retry a pod lost to the infrastructure (eviction, node drain). */
export const DISRUPTION_RETRIES = 3;

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

export function jobName(runId: string): string {
  return `prodigy-${runId}`;
}

export function secretName(runId: string): string {
  return `prodigy-${runId}-secrets`;
}

export function configMapName(runId: string): string {
  return `prodigy-${runId}-workflow`;
}

export function buildJobObjects(spec: RunSpec, options: JobOptions): JobObjects {
  if (!spec.container) throw new Error('The Kubernetes runtime needs a container spec.');
  const id = options.indexed?.id ?? spec.runId;
  const name = jobName(id);
  const labels = {
    ...spec.labels,
    'app.kubernetes.io/name': 'prodigy',
    'app.kubernetes.io/managed-by': 'cook-action',
    'app.kubernetes.io/instance': name,
  };
  const workflowFile: WorkflowFile | undefined =
    spec.workflowFile && options.workflowContent !== undefined
      ? { key: 'workflow.yml', name: configMapName(id), argIndex: spec.workflowFile.argIndex }
      : undefined;
  const pod = podSpec(spec, options.target, { secret: secretName(id), workflowFile });
  const secret = runSecret(spec, { name: secretName(id), namespace: options.namespace, labels });
  const suspended = secret !== undefined || workflowFile !== undefined;
  const job = jobObject(spec, options, { name, labels, suspended }, pod);
  return {
    job: options.target.podTemplate ? withPodTemplate(job, options.target.podTemplate) : job,
    ...(secret ? { secret } : {}),
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
}

function jobObject(
  spec: RunSpec,
  options: JobOptions,
  metadata: { name: string; labels: Record<string, string>; suspended: boolean },
  pod: V1PodSpec,
): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: metadata.name,
      namespace: options.namespace,
      labels: metadata.labels,
      annotations: {
        'io.prodigy.cook-action/workflow': spec.origin.workflow ?? '',
        'io.prodigy.cook-action/submitter': spec.origin.submitter,
        'io.prodigy.cook-action/submitted-at': options.submittedAt.toISOString(),
      },
    },
    spec: {
      // Created suspended when its pod needs a Secret or a ConfigMap: they are created next,
      // owned by the Job, and only then does the Job start its pod.
      suspend: metadata.suspended,
      ttlSecondsAfterFinished: options.target.ttlSecondsAfterFinished,
      ...(spec.timeoutMs === undefined
        ? {}
        : { activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)) }),
      ...retries(options.indexed),
      template: { metadata: { labels: metadata.labels }, spec: pod },
    },
  };
}

/** How the Job counts and retries its pods: once, or per index of an Indexed Job. */
function retries(indexed: JobOptions['indexed']): Omit<V1JobSpec, 'template'> {
  return {
    ...(indexed
      ? {
          completionMode: 'Indexed',
          completions: indexed.count,
          parallelism: indexed.parallelism,
          backoffLimitPerIndex: DISRUPTION_RETRIES,
        }
      : { backoffLimit: DISRUPTION_RETRIES }),
    podFailurePolicy: {
      // The first rule that matches decides, so disruption comes first: an evicted pod's
      // workload dies of the SIGTERM (143), which the second rule alone would call final.
      rules: [
        // A pod lost to the infrastructure (eviction, preemption, drain) is started again, and
        // does not count against the retries.
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        // The workload's own non-zero exit is its answer: never retried.
        {
          action: indexed ? 'FailIndex' : 'FailJob',
          onExitCodes: { containerName: WORKLOAD_CONTAINER, operator: 'NotIn', values: [0] },
        },
      ],
    },
  };
}
