/**
 * One run through the real path a user's inputs take: buildSettings → cook() with the runtime the
 * settings ask for, output captured as the step log would show it, and the log file read back.
 */
import { readFileSync } from 'node:fs';
import type { InputName } from '../../src/config/names.js';
import { buildSettings, type Settings } from '../../src/config/settings.js';
import { Masker } from '../../src/logs/masker.js';
import { runLogged } from '../../src/run.js';
import type { RunOutcome } from '../../src/engine/outcome.js';
import { Capture } from './capture.js';

export interface CookedRun {
  readonly outcome: RunOutcome;
  /** Every line shown, the action's own notes included. */
  readonly shown: string[];
  /** The whole log file as written. */
  readonly file: string;
  readonly settings: Settings;
}

export async function cookWith(
  inputs: Partial<Record<InputName, string>>,
  options: { workspace: string; cancelAfterMs?: number },
): Promise<CookedRun> {
  const masker = new Masker();
  const settings = buildSettings(
    (name) => inputs[name] ?? '',
    {
      ...process.env,
      GITHUB_WORKSPACE: options.workspace,
      RUNNER_TEMP: `${options.workspace}-tmp`,
    },
    { onSecret: (value) => masker.add(value) },
  );
  const out = new Capture();
  const cancel = new AbortController();
  const timer =
    options.cancelAfterMs === undefined
      ? undefined
      : setTimeout(() => cancel.abort(), options.cancelAfterMs);
  try {
    const outcome = await runLogged(settings, masker, {
      signal: cancel.signal,
      stdout: out,
      stderr: out,
    });
    return { outcome, shown: out.lines, file: readFileSync(settings.logPath, 'utf8'), settings };
  } finally {
    clearTimeout(timer);
  }
}
