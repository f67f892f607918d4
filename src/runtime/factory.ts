/** Builds the runtime a Settings value asks for. Nothing is connected until a method is called. */
import type { Settings } from '../config/settings.js';
import { createDockerRuntime } from './docker/docker-runtime.js';
import { IndexedJob } from './kubernetes/indexed-job.js';
import { createKubernetesRuntime } from './kubernetes/kubernetes-runtime.js';
import { createLocalRuntime } from './local/local-runtime.js';
import type { ContainerRuntime } from './types.js';

export function createRuntime(settings: Settings): ContainerRuntime {
  switch (settings.runtime) {
    case 'docker':
      return createDockerRuntime(settings.docker);
    case 'local':
      return createLocalRuntime(settings.hostEnv);
    case 'kubernetes':
      return createKubernetesRuntime({ target: settings.kubernetes });
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
  const job = new IndexedJob(
    { target: settings.kubernetes },
    {
      id: settings.runGroup ?? settings.runId,
      count,
      parallelism,
    },
  );
  return (index) => job.runtimeFor(index);
}
