/** The action's main step: settings → cook (or one shard of a plan) → outputs, summary, verdict. */
import * as core from '@actions/core';
import { Outputs } from './config/names.js';
import { uploadShardResults } from './mapreduce/artifacts.js';
import { runShard } from './mapreduce/shard.js';
import { downloadArtifact } from './report/artifacts.js';
import { fanOutReport, runReport, shardReport, summaryTitle } from './report-inputs.js';
import {
  beginStep,
  conclude,
  fanOutWithFolds,
  maskUpload,
  report,
  say,
  setOutcomeOutputs,
} from './step.js';

/** Runs the main step; returns normally even when the run failed (the step is failed here). */
export async function runAction(): Promise<void> {
  const step = beginStep();
  const { settings } = step;
  const onStarted = (id: string) => {
    if (settings.runtime === 'docker') core.setOutput(Outputs.containerId, id);
    if (settings.runtime === 'kubernetes') core.setOutput(Outputs.jobName, id);
  };

  if (settings.maxParallel !== undefined) {
    const fanned = await fanOutWithFolds(step, settings.maxParallel, true, say);
    setOutcomeOutputs(fanned.outcome);
    if (fanned.reduced) core.setOutput(Outputs.results, fanned.reduced.file);
    await report(settings, fanOutReport(settings, fanned.outcome, fanned.shards, fanned.reduced));
    conclude(fanned.outcome);
    return;
  }

  if (settings.shard) {
    const entry = settings.shard;
    const shard = await runShard(settings, entry, {
      run: (s) => step.run(s, onStarted),
      note: say,
      ...(settings.github.artifactService ? { downloadPlan: downloadArtifact } : {}),
    });
    core.setOutput(Outputs.results, shard.file);
    await uploadShardResults(settings, shard, {
      note: say,
      notice: (message) => core.notice(message),
      mask: maskUpload,
    });
    setOutcomeOutputs(shard.outcome);
    await report(settings, shardReport(settings, shard));
    conclude(shard.outcome, `The ${entry.name}`);
    return;
  }

  const outcome = await step.run(settings, onStarted);
  setOutcomeOutputs(outcome);
  await report(settings, runReport(outcome, summaryTitle(settings)));
  conclude(outcome);
}
