/** Builds the runtime a Settings value asks for. Nothing is connected until a method is called. */
import type { Settings } from '../config/settings.js';
import { createDockerRuntime } from './docker/docker-runtime.js';
import { createLocalRuntime } from './local/local-runtime.js';
import type { ContainerRuntime } from './types.js';

export function createRuntime(settings: Settings): ContainerRuntime {
  switch (settings.runtime) {
    case 'docker':
      return createDockerRuntime(settings.docker);
    case 'local':
      return createLocalRuntime(settings.hostEnv);
  }
}
