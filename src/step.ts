/**
 * The GitHub Actions host: what every step of the action does before its own work (cancel on
 * SIGINT/SIGTERM, read the settings with every secret masked before the first byte of output,
 * save what post needs to sweep before anything is created), and how it shows, outputs and
 * concludes what the modes (app/modes.ts) do.
 */
import * as core from '@actions/core';
import { actionInput, readActionSettings, saveRunState } from './config/action.js';
import { Outputs } from './config/names.js';
import { dockerHostString } from './config/settings.js';
import { conclusion, type Host } from './app/host.js';
import { type Mode, runMode } from './app/modes.js';
import { inert } from './logs/inert.js';
import { Masker } from './logs/masker.js';
import { CommandGuard } from './logs/stop-commands.js';
import { runLogged } from './run.js';

/** Secrets known to this step, for say(); set by beginStep before any output. */
let stepMasker: Masker | undefined;

/**
 * The action's own message on the step log: masked, then made inert, since it may quote what
 * the workload wrote (a file name, an item id, an engine's message).
 */
export function say(message: string): void {
  core.info(inert(stepMasker ? stepMasker.mask(message) : message));
}

export function beginStep(): Host {
  const cancel = new AbortController();
  const onSignal = (name: string) => () => {
    if (!cancel.signal.aborted) say(`Received ${name}: cancelling the run.`);
    cancel.abort();
  };
  // Handlers stay installed: a second signal must not kill the cleanup under way.
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));

  const masker = new Masker();
  stepMasker = masker;
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
  // Set at once, so it exists even if the step is killed before it ends.
  core.setOutput(Outputs.logPath, settings.logPath);

  const guard = new CommandGuard();
  return {
    settings,
    masker,
    signal: cancel.signal,
    stdout: process.stdout,
    foldShards: true,
    run: (runSettings, onStarted) =>
      runLogged(runSettings, masker, {
        signal: cancel.signal,
        guard,
        foldGroups: true,
        ...(onStarted ? { onStarted } : {}),
      }),
    note: say,
    notice: (message) => core.notice(message),
    warning: (message) => core.warning(message),
    setOutput: (name, value) => core.setOutput(name, value),
    writeSummary: async (markdown) => {
      await core.summary.addRaw(markdown, true).write();
    },
    conclude: (outcome, what) => {
      if (outcome.status === 'succeeded') say(conclusion(outcome, what));
      else core.setFailed(conclusion(outcome, what));
    },
  };
}

/** A step of the action in `mode`: its verdict is set here, or by the guard in entries.ts. */
export async function runStep(mode: Mode): Promise<void> {
  await runMode(mode, beginStep(), actionInput);
}
