/** Builds the runtime a Settings value asks for. Nothing is connected until a method is called. */
import type { Settings } from '../config/settings.js';
import { createDockerRuntime } from './docker/docker-runtime.js';
import {
  createKubernetesRuntime,
  IndexedJob,
  type KubernetesRuntimeOptions,
} from './kubernetes/kubernetes-runtime.js';
import { createLocalRuntime } from './local/local-runtime.js';
import type { ContainerRuntime } from './types.js';

export function createRuntime(settings: Settings): ContainerRuntime {
  switch (settings.runtime) {
    case 'docker':
      return createDockerRuntime(settings.docker);
    case 'local':
      return createLocalRuntime(settings.hostEnv);
    case 'kubernetes':
      return createKubernetesRuntime(kubernetesOptions(settings));
  }
}

/**
 * Runtimes for shards that run at once, one per shard: on Kubernetes they share one Indexed
 * Job; elsewhere each is a runtime of its own.
 */
export function createShardRuntimes(
  settings: Settings,
  count: number,
  parallelism: number,
): (index: number) => ContainerRuntime {
  if (settings.runtime !== 'kubernetes') return () => createRuntime(settings);
  const job = new IndexedJob(kubernetesOptions(settings), {
    id: settings.runGroup ?? settings.runId,
    count,
    parallelism,
  });
  return (index) => job.runtimeFor(index);
}

function kubernetesOptions(
  settings: Settings & { runtime: 'kubernetes' },
): KubernetesRuntimeOptions {
  return {
    target: settings.kubernetes,
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    submitter: settings.github.actor ?? 'unknown',
    ...(settings.workload.workflow ? { workflow: settings.workload.workflow } : {}),
    ...schedulingTimeout(process.env.COOK_ACTION_SCHEDULING_TIMEOUT),
  };
}

/** COOK_ACTION_SCHEDULING_TIMEOUT: seconds a pod may stay unschedulable (default 120). */
function schedulingTimeout(value: string | undefined): { schedulingTimeoutMs?: number } {
  if (value === undefined || value.trim() === '') return {};
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(
      `COOK_ACTION_SCHEDULING_TIMEOUT has invalid value ${JSON.stringify(value)}: expected a number of seconds above 0`,
    );
  }
  return { schedulingTimeoutMs: seconds * 1000 };
}
