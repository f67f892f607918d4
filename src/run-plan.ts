/** The plan sub-action: items computed once, split into shards, `matrix` for the map jobs. */
import { runStep } from './step.js';

export async function runPlanAction(): Promise<void> {
  await runStep('plan');
}
