/** The GitHub Actions side of configuration: inputs and main → post state through @actions/core. */
import * as core from '@actions/core';
import {
  type DockerConnection,
  buildSettings,
  dockerConnection,
  type Settings,
} from './settings.js';
import { kubernetesInputs, type KubernetesTarget } from './kubernetes.js';
import { States, type InputName } from './names.js';
import type { RuntimeKind } from './settings.js';

/** Inputs as the runner passes them (INPUT_<NAME>), untrimmed so multi-line values keep shape. */
export function actionInput(name: InputName): string {
  return core.getInput(name, { trimWhitespace: false });
}

export function readActionSettings(onSecret: (value: string) => void): Settings {
  return buildSettings(actionInput, process.env, { onSecret });
}

/**
 * The cluster, read again from the inputs in post: its credentials are inputs, never state, and
 * are masked before anything is printed.
 */
export function readKubernetesTarget(onSecret: (value: string) => void): KubernetesTarget {
  return kubernetesInputs(actionInput, process.env.GITHUB_WORKSPACE ?? process.cwd(), onSecret)
    .target;
}

/** What post needs to find and remove what main created, saved before anything is created. */
export interface RunState {
  readonly runId: string;
  readonly runtime: RuntimeKind;
  readonly docker?: DockerConnection;
}

export function saveRunState(settings: Settings, dockerHost: string | undefined): void {
  core.saveState(States.runId, settings.runId);
  core.saveState(States.runtime, settings.runtime);
  if (dockerHost) core.saveState(States.dockerHost, dockerHost);
}

/** The state main saved, or undefined when main stopped before creating anything. */
export function readRunState(): RunState | undefined {
  const runId = core.getState(States.runId);
  if (runId === '') return undefined;
  const runtime = core.getState(States.runtime) as RuntimeKind;
  const dockerHost = core.getState(States.dockerHost);
  return {
    runId,
    runtime,
    ...(dockerHost ? { docker: dockerConnection({ DOCKER_HOST: dockerHost }) } : {}),
  };
}
