/**
 * Builds the runtime a Settings value asks for. Each runtime's code (and its client library) is
 * loaded only when a run asks for it: a Docker run never loads the Kubernetes client, which is
 * most of the bundle. Nothing is connected until a method is called.
 */
import type { Settings } from '../config/settings.js';
import type { ContainerRuntime } from './types.js';

/** The runtimes of one kind, loaded. */
export interface Runtimes {
  /** A runtime for one workload. */
  single(): ContainerRuntime;
  /**
   * Runtimes for shards that run at once, one per shard: on Kubernetes they share one Indexed
   * Job; elsewhere each is a runtime of its own.
   */
  shards(count: number, parallelism: number): (index: number) => ContainerRuntime;
}

export async function loadRuntimes(settings: Settings): Promise<Runtimes> {
  switch (settings.runtime) {
    case 'docker': {
      const { createDockerRuntime } = await import('./docker/docker-runtime.js');
      return ownEach(() => createDockerRuntime(settings.docker));
    }
    case 'local': {
      const { createLocalRuntime } = await import('./local/local-runtime.js');
      return ownEach(() => createLocalRuntime(settings.hostEnv));
    }
    case 'kubernetes': {
      const [{ createKubernetesRuntime }, { IndexedJob }] = await Promise.all([
        import('./kubernetes/kubernetes-runtime.js'),
        import('./kubernetes/indexed-job.js'),
      ]);
      const target = settings.kubernetes;
      return {
        single: () => createKubernetesRuntime({ target }),
        shards: (count, parallelism) => {
          const id = settings.runGroup ?? settings.runId;
          const job = new IndexedJob({ target }, { id, count, parallelism });
          return (index) => job.runtimeFor(index);
        },
      };
    }
  }
}

function ownEach(create: () => ContainerRuntime): Runtimes {
  return { single: create, shards: () => create };
}
