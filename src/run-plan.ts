/** The plan sub-action: items computed once, split into shards, `matrix` for the map jobs. */
import * as core from '@actions/core';
import { actionInput } from './config/action.js';
import { readShardRequest } from './config/mapreduce.js';
import { Outputs } from './config/names.js';
import { uploadPlan } from './mapreduce/artifacts.js';
import { planMatrix } from './mapreduce/matrix.js';
import { makePlan } from './mapreduce/plan.js';
import { planSummary } from './report/summary.js';
import { beginStep, maskUpload, say } from './step.js';

export async function runPlanAction(): Promise<void> {
  const step = beginStep();
  const { settings } = step;
  const request = readShardRequest(actionInput);
  const planned = await makePlan(settings, request, {
    run: (s) => step.run(s),
    note: say,
  });
  const artifact = await uploadPlan(settings, planned, {
    note: say,
    notice: (message) => core.notice(message),
    mask: maskUpload,
  });
  const { text, inline } = planMatrix(planned, artifact);
  if (!inline) {
    say(
      `The matrix would pass 256 KiB with the items in it; each shard reads its items from ${artifact ? `the artifact ${artifact}` : planned.dir}.`,
    );
  }
  core.setOutput(Outputs.matrix, text);
  core.setOutput(Outputs.itemCount, String(planned.plan.itemCount));
  core.setOutput(Outputs.shardCount, String(planned.plan.shards.length));
  if (settings.summary) await core.summary.addRaw(planSummary(planned.plan), true).write();
  say(
    `Planned ${planned.plan.itemCount} item(s) in ${planned.plan.shards.length} shard(s) (plan ${planned.plan.id}).`,
  );
}
