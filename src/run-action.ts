/** The action's main step: settings → cook (or one shard of a plan) → outputs, summary, verdict. */
import * as core from '@actions/core';
import { Outputs } from './config/names.js';
import type { Settings } from './config/settings.js';
import { uploadShardResults } from './mapreduce/artifacts.js';
import { runShard } from './mapreduce/shard.js';
import { downloadArtifact } from './report/artifacts.js';
import { outcomeOutputs } from './report/outputs.js';
import { reduceSummary, summaryMarkdown } from './report/summary.js';
import { beginStep, conclude, fanOutWithFolds } from './step.js';

/** Runs the main step; returns normally even when the run failed (the step is failed here). */
export async function runAction(): Promise<void> {
  const step = beginStep();
  const { settings } = step;
  const onStarted = (id: string) => {
    if (settings.runtime === 'docker') core.setOutput(Outputs.containerId, id);
    if (settings.runtime === 'kubernetes') core.setOutput(Outputs.jobName, id);
  };

  if (settings.maxParallel !== undefined) {
    const fanned = await fanOutWithFolds(step, settings.maxParallel, true, (message) =>
      core.info(message),
    );
    for (const [name, value] of Object.entries(outcomeOutputs(fanned.outcome))) {
      core.setOutput(name, value);
    }
    if (fanned.reduced) core.setOutput(Outputs.results, fanned.reduced.file);
    if (settings.summary) {
      const summary = fanned.reduced
        ? reduceSummary(fanned.reduced)
        : summaryMarkdown(fanned.outcome, summaryTitle(settings));
      await core.summary.addRaw(summary, true).write();
    }
    conclude(fanned.outcome);
    return;
  }

  if (settings.shard) {
    const shard = await runShard(settings, settings.shard, {
      run: (s) => step.run(s, onStarted),
      note: (message) => core.info(message),
      ...(settings.github.artifactService ? { downloadPlan: downloadArtifact } : {}),
    });
    core.setOutput(Outputs.results, shard.file);
    await uploadShardResults(settings, shard, {
      note: (message) => core.info(message),
      notice: (message) => core.notice(message),
    });
    for (const [name, value] of Object.entries(outcomeOutputs(shard.outcome))) {
      core.setOutput(name, value);
    }
    if (settings.summary) {
      await core.summary
        .addRaw(
          summaryMarkdown(shard.outcome, `${summaryTitle(settings)} (${settings.shard.name})`),
          true,
        )
        .write();
    }
    conclude(shard.outcome, `The ${settings.shard.name}`);
    return;
  }

  const outcome = await step.run(settings, onStarted);
  for (const [name, value] of Object.entries(outcomeOutputs(outcome))) core.setOutput(name, value);
  if (settings.summary) {
    await core.summary.addRaw(summaryMarkdown(outcome, summaryTitle(settings)), true).write();
  }
  conclude(outcome);
}

function summaryTitle(settings: Settings): string {
  const workload = settings.workload;
  return workload.kind === 'prodigy' ? `cook-action: ${workload.workflow}` : 'cook-action: command';
}
