/** The reduce sub-action: every shard's results merged, their commits applied, reduce run. */
import { runStep } from './step.js';

export async function runReduceAction(): Promise<void> {
  await runStep('reduce');
}
