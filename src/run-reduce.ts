/** The reduce sub-action: every shard's results merged, their commits applied, reduce run. */
import * as core from '@actions/core';
import { actionInput } from './config/action.js';
import { readResultFiles } from './config/mapreduce.js';
import { Outputs } from './config/names.js';
import { downloadAllResults } from './mapreduce/artifacts.js';
import { runReduce } from './mapreduce/reduce.js';
import { outcomeOutputs } from './report/outputs.js';
import { reduceSummary } from './report/summary.js';
import { beginStep, conclude } from './step.js';

export async function runReduceAction(): Promise<void> {
  const step = beginStep();
  const { settings } = step;
  const given = readResultFiles(actionInput);
  if (given.length === 0 && !settings.github.artifactService) {
    core.notice(
      "No artifact service here (not in GitHub Actions): reduce reads only the results files given in 'results'.",
    );
  }
  const reduced = await runReduce(settings, given, {
    run: (s) => step.run(s),
    note: (message) => core.info(message),
    ...(settings.github.artifactService ? { downloadResults: downloadAllResults } : {}),
  });
  for (const [name, value] of Object.entries(outcomeOutputs(reduced.outcome))) {
    core.setOutput(name, value);
  }
  core.setOutput(Outputs.results, reduced.file);
  if (settings.summary) await core.summary.addRaw(reduceSummary(reduced), true).write();
  conclude(reduced.outcome, 'The reduce');
}
