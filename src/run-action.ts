/** The action's main step: one workload, one planned shard, or every shard at once. */
import { runStep } from './step.js';

export async function runAction(): Promise<void> {
  await runStep('run');
}
