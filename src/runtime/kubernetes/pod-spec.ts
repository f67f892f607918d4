/**
 * The pod of a run's Job: the keeper (a native sidecar, the workload's image) receives the
 * workspace over exec and marks it ready, and the workload's shell waits for that mark, so the
 * workload starts on a complete workspace (keeper.ts); after the workload ends the keeper holds
 * the pod until the results were fetched (transfer.ts). The two do not share a process namespace: the workload cannot see the keeper's
 * processes, signal them or reach its files through /proc. It is PID 1 of its own container,
 * where the usage shell (usage.ts) passes SIGTERM on, so a plain shell still stops as it does
 * under Docker's init.
 */
import type {
  V1Container,
  V1EnvVar,
  V1PodSpec,
  V1ResourceRequirements,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { KubernetesTarget } from '../../config/kubernetes.js';
import type { PullPolicy } from '../../config/container-settings.js';
import type { ContainerSpec, RunSpec } from '../types.js';
import {
  CONTROL_DIR,
  KEEPER_CONTAINER,
  KEEPER_SCRIPT,
  READY_DIR,
  WAIT_FOR_WORKSPACE,
} from './keeper.js';
import { usageWrapper } from '../usage.js';

/** The workload's container name: podFailurePolicy and log reads name it. */
export const WORKLOAD_CONTAINER = 'workload';
/**
 * The pod's grace after SIGTERM: the workload's, when stopped at its deadline, and the keeper's
 * for handing back the results afterwards.
 */
export const TERMINATION_GRACE_SECONDS = 60;
/** Where the workflow file from the ConfigMap appears in the pod. */
export const WORKFLOW_DIR = '/cook/workflow';

/** The workflow file, carried by a ConfigMap in place of the spec's host path. */
export interface WorkflowFile {
  readonly key: string;
  /** The ConfigMap's name. */
  readonly name: string;
  /** Which argument of the command names the file. */
  readonly argIndex: number;
}

/** What the pod refers to by name. */
export interface PodRefs {
  /** The run's Secret: secret env and, with registry credentials, the pull secret. */
  readonly secret: string;
  readonly workflowFile: WorkflowFile | undefined;
}

const PULL_POLICIES: Record<PullPolicy, string> = {
  always: 'Always',
  'if-not-present': 'IfNotPresent',
  never: 'Never',
};

export function podSpec(spec: RunSpec, target: KubernetesTarget, refs: PodRefs): V1PodSpec {
  const container = spec.container!;
  return {
    restartPolicy: 'Never',
    shareProcessNamespace: false,
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    ...(target.serviceAccount
      ? { serviceAccountName: target.serviceAccount }
      : { automountServiceAccountToken: false }),
    ...(container.registryAuth ? { imagePullSecrets: [{ name: refs.secret }] } : {}),
    securityContext: {
      seccompProfile: { type: 'RuntimeDefault' },
      ...userSecurityContext(container.user),
    },
    initContainers: [keeperContainer(spec, container)],
    containers: [workloadContainer(spec, container, refs)],
    volumes: volumes(spec, refs.workflowFile),
  };
}

/** The volume of each of the spec's host folders; the keeper fills every one. */
function mountsOf(spec: RunSpec): V1VolumeMount[] {
  return spec.mounts.map((mount, index) => ({ name: `mount-${index}`, mountPath: mount.target }));
}

function keeperContainer(spec: RunSpec, container: ContainerSpec): V1Container {
  return {
    name: KEEPER_CONTAINER,
    image: container.image,
    imagePullPolicy: PULL_POLICIES[container.pullPolicy],
    // A native sidecar: started before the workload, stopped after it.
    restartPolicy: 'Always',
    command: ['sh', '-c', KEEPER_SCRIPT],
    resources: { requests: { cpu: '10m', memory: '32Mi' } },
    securityContext: restrictedContainer(container.capabilities, container.user),
    volumeMounts: [
      ...mountsOf(spec),
      { name: 'control', mountPath: CONTROL_DIR },
      { name: 'ready', mountPath: READY_DIR },
    ],
  };
}

function workloadContainer(spec: RunSpec, container: ContainerSpec, refs: PodRefs): V1Container {
  const { workflowFile } = refs;
  const command = [...spec.argv];
  if (workflowFile) command[workflowFile.argIndex] = `${WORKFLOW_DIR}/${workflowFile.key}`;
  const env: V1EnvVar[] = [
    ...Object.entries(spec.env).map(([key, value]) => ({ name: key, value })),
    ...Object.keys(spec.secretEnv).map((key) => ({
      name: key,
      valueFrom: { secretKeyRef: { name: refs.secret, key: `env.${key}` } },
    })),
  ];
  return {
    name: WORKLOAD_CONTAINER,
    image: container.image,
    imagePullPolicy: PULL_POLICIES[container.pullPolicy],
    // The workload, once the workspace is in (keeper.ts), in a shell that passes signals on and
    // leaves its cgroup counters in the termination message when it exits (runtime/usage.ts).
    command: [
      'sh',
      '-c',
      `${WAIT_FOR_WORKSPACE}\n${usageWrapper('/dev/termination-log')}`,
      'cook-workload',
      ...command,
    ],
    workingDir: spec.workdir,
    env,
    resources: resources(container),
    securityContext: restrictedContainer(container.capabilities, container.user),
    volumeMounts: [
      // The workload may not write to a read-only folder.
      ...mountsOf(spec).map((mount, index) => ({
        ...mount,
        ...(spec.mounts[index]!.readOnly ? { readOnly: true } : {}),
      })),
      ...(workflowFile ? [{ name: 'workflow', mountPath: WORKFLOW_DIR, readOnly: true }] : []),
      { name: 'ready', mountPath: READY_DIR, readOnly: true },
    ],
  };
}

function volumes(spec: RunSpec, workflowFile: WorkflowFile | undefined): V1Volume[] {
  return [
    // Bounded (transfer-limit): a workload that fills its disk is evicted, not the node.
    ...mountsOf(spec).map((mount) => ({
      name: mount.name,
      emptyDir: { sizeLimit: String(spec.transferLimit.bytes) },
    })),
    // The archives going out, and the commits, wait here.
    { name: 'control', emptyDir: { sizeLimit: String(2 * spec.transferLimit.bytes) } },
    // The keeper's ready marker, the one thing of its own the workload sees.
    { name: 'ready', emptyDir: { sizeLimit: '1Mi' } },
    ...(workflowFile ? [{ name: 'workflow', configMap: { name: workflowFile.name } }] : []),
  ];
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

function resources(container: ContainerSpec): V1ResourceRequirements {
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
