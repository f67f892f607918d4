/** The post step: remove whatever this run left behind, found by the labels saved in state. */
import * as core from '@actions/core';
import { say } from './step.js';
import { readRunState } from './config/action.js';

export async function runPost(): Promise<void> {
  const state = readRunState((value) => core.setSecret(value));
  if (!state) {
    say('Nothing to clean up: the main step created nothing.');
    return;
  }
  // Only the runtime the run used is loaded.
  let runtime;
  if (state.runtime === 'local')
    runtime = (await import('./runtime/local/local-runtime.js')).createLocalRuntime({});
  else if (state.kubernetes) {
    const { createKubernetesRuntime } = await import('./runtime/kubernetes/kubernetes-runtime.js');
    runtime = createKubernetesRuntime({ target: state.kubernetes });
  } else if (state.docker)
    runtime = (await import('./runtime/docker/docker-runtime.js')).createDockerRuntime(
      state.docker,
    );
  else {
    say(`Nothing to clean up for runtime '${state.runtime}'.`);
    return;
  }
  const removed = await runtime.sweep(state.runId);
  say(
    removed.length === 0
      ? `Nothing left from run ${state.runId}.`
      : `Removed what run ${state.runId} left: ${removed.join(', ')}.`,
  );
}
