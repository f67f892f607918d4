/** The reduce sub-action: every shard's results merged, their commits applied, reduce run. */
import * as core from '@actions/core';
import { actionInput } from './config/action.js';
import { readResultFiles } from './config/mapreduce.js';
import { Outputs } from './config/names.js';
import { downloadAllResults } from './mapreduce/artifacts.js';
import { runReduce } from './mapreduce/reduce.js';
import { mapReduceReport } from './report-inputs.js';
import { beginStep, conclude, report, say, setOutcomeOutputs } from './step.js';

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
    note: say,
    ...(settings.github.artifactService ? { downloadResults: downloadAllResults } : {}),
  });
  setOutcomeOutputs(reduced.outcome);
  core.setOutput(Outputs.results, reduced.file);
  await report(
    settings,
    mapReduceReport({
      title: `cook-action reduce: ${reduced.merged.workflow}`,
      outcome: reduced.outcome,
      merged: reduced.merged,
      resultsFile: reduced.file,
      conflicts: reduced.conflicts,
      ...(reduced.reduceOutcome ? { reduceOutcome: reduced.reduceOutcome } : {}),
    }),
  );
  conclude(reduced.outcome, 'The reduce');
}
