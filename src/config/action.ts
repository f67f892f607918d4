/** The GitHub Actions side of configuration: inputs and main → post state through @actions/core. */
import * as core from '@actions/core';
import {
  type DockerConnection,
  buildSettings,
  dockerConnection,
  type Settings,
} from './settings.js';
import { type KubernetesTarget, registerCredentials } from './kubernetes.js';
import { States, type InputName } from './names.js';
import type { RuntimeKind } from './settings.js';

/** Inputs as the runner passes them (INPUT_<NAME>), untrimmed so multi-line values keep shape. */
export function actionInput(name: InputName): string {
  return core.getInput(name, { trimWhitespace: false });
}

export function readActionSettings(onSecret: (value: string) => void): Settings {
  return buildSettings(actionInput, process.env, { onSecret });
}

/** What post needs to find and remove what main created, saved before anything is created. */
export interface RunState {
  readonly runId: string;
  readonly runtime: RuntimeKind;
  readonly docker?: DockerConnection;
  /**
   * The cluster as main resolved it before the run: its kubeconfig's content, never a file to
   * read again (the workload may have rewritten the workspace, clusters file included).
   */
  readonly kubernetes?: KubernetesTarget;
}

export function saveRunState(settings: Settings, dockerHost: string | undefined): void {
  core.saveState(States.runId, settings.runId);
  core.saveState(States.runtime, settings.runtime);
  if (dockerHost) core.saveState(States.dockerHost, dockerHost);
  if (settings.runtime === 'kubernetes') {
    core.saveState(States.kubernetes, JSON.stringify(settings.kubernetes));
  }
}

/** The state main saved, or undefined when main stopped before creating anything. */
export function readRunState(onSecret: (value: string) => void): RunState | undefined {
  const runId = core.getState(States.runId);
  if (runId === '') return undefined;
  const runtime = core.getState(States.runtime) as RuntimeKind;
  const dockerHost = core.getState(States.dockerHost);
  const kubernetes = core.getState(States.kubernetes);
  let target: KubernetesTarget | undefined;
  if (kubernetes) {
    target = JSON.parse(kubernetes) as KubernetesTarget;
    // Masked again before anything is printed: post is a step of its own.
    if (target.kubeconfig.kind === 'content') {
      registerCredentials(target.kubeconfig.content, onSecret);
    }
  }
  return {
    runId,
    runtime,
    ...(dockerHost ? { docker: dockerConnection({ DOCKER_HOST: dockerHost }) } : {}),
    ...(target ? { kubernetes: target } : {}),
  };
}
