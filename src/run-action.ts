/** The action's main step: settings → cook → outputs, summary, and the step's verdict. */
import * as core from '@actions/core';
import { readActionSettings, saveRunState } from './config/action.js';
import { dockerHostString, type Settings } from './config/settings.js';
import { Masker } from './logs/masker.js';
import { CommandGuard } from './logs/stop-commands.js';
import { outcomeOutputs } from './report/outputs.js';
import { summaryMarkdown } from './report/summary.js';
import { runLogged } from './run.js';
import { Outputs } from './config/names.js';

/** Runs the main step; returns normally even when the run failed (the step is failed here). */
export async function runAction(): Promise<void> {
  const cancel = new AbortController();
  const onSignal = (name: string) => () => {
    if (!cancel.signal.aborted) core.info(`Received ${name}: cancelling the run.`);
    cancel.abort();
  };
  // Handlers stay installed: a second signal must not kill the cleanup under way.
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));

  const masker = new Masker();
  const settings = readActionSettings((secret) => {
    masker.add(secret);
  });
  // Before the first byte of output: the runner masks these from here on.
  for (const value of masker.values) core.setSecret(value);

  // Saved before anything is created, so post can sweep even if main is killed.
  saveRunState(
    settings,
    settings.runtime === 'docker' ? dockerHostString(settings.docker) : undefined,
  );

  // Set at once, so they exist even if the step is killed before it ends.
  core.setOutput(Outputs.logPath, settings.logPath);
  const outcome = await runLogged(settings, masker, {
    signal: cancel.signal,
    guard: new CommandGuard(),
    foldGroups: true,
    onStarted: (id) => {
      if (settings.runtime === 'docker') core.setOutput(Outputs.containerId, id);
      if (settings.runtime === 'kubernetes') core.setOutput(Outputs.jobName, id);
    },
  });

  for (const [name, value] of Object.entries(outcomeOutputs(outcome))) core.setOutput(name, value);
  if (settings.summary) {
    await core.summary.addRaw(summaryMarkdown(outcome, summaryTitle(settings)), true).write();
  }
  if (outcome.status !== 'succeeded') {
    core.setFailed(
      `The run ${outcome.status === 'failed' ? 'failed' : `was ${outcome.status}`}: ${outcome.reason}.`,
    );
  } else {
    core.info(`The run succeeded (${outcome.reason}) in ${outcome.durationSeconds.toFixed(1)} s.`);
  }
}

function summaryTitle(settings: Settings): string {
  const workload = settings.workload;
  return workload.kind === 'prodigy' ? `cook-action: ${workload.workflow}` : 'cook-action: command';
}
