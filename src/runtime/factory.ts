/** Builds the runtime a Settings value asks for. Nothing is connected until a method is called. */
import type { Settings } from '../config/settings.js';
import { createDockerRuntime } from './docker/docker-runtime.js';
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
      return createKubernetesRuntime({
        target: settings.kubernetes,
        ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
        submitter: settings.github.actor ?? 'unknown',
        ...(settings.workload.workflow ? { workflow: settings.workload.workflow } : {}),
      });
  }
}
