/**
 * The spend cap and the turn cap (`max-cost-usd`, `max-turns`): what Claude may use in one step,
 * over every Claude session of it (the plan, each shard run at once on this runner, the reduce).
 *
 * Enforced twice. Inside the container, the run's own `claude` (workflow/prodigy.ts) gives every
 * session Claude's own `--max-budget-usd` and `--max-turns`, so one session never goes far past
 * a cap. On the runner, cook.ts reads Claude's session logs while the run goes and stops the run
 * once the step's total passes a cap, as a timeout stops it. A session's price is known when it
 * ends (Claude writes it then); its turns as they happen.
 *
 * The figures are what Claude in the container recorded: a cap stops an agent that runs away,
 * not a workload that lies about itself (SECURITY.md).
 */
import { Inputs } from '../config/names.js';
import type { ClaudeLimits } from '../config/workload.js';
import type { ClaudeFigures } from './claude-records.js';

/** A cap the step's total went past, in words that name the input. */
export interface PassedLimit {
  readonly input: typeof Inputs.maxCostUsd | typeof Inputs.maxTurns;
  readonly message: string;
}

export function hasLimits(limits: ClaudeLimits | undefined): limits is ClaudeLimits {
  return limits?.maxCostUsd !== undefined || limits?.maxTurns !== undefined;
}

type Spent = Pick<ClaudeFigures, 'costUsd' | 'turns' | 'sessions'>;

/** What one step's runs have used, each run counted by its latest reading. */
export class ClaudeBudget {
  private readonly spent = new Map<string, Spent>();

  constructor(readonly limits: ClaudeLimits) {}

  /** The latest figures of one run (a run's readings only grow; the last one counts). */
  record(run: string, figures: Spent): void {
    this.spent.set(run, figures);
  }

  total(): Spent {
    let costUsd = 0;
    let turns = 0;
    let sessions = 0;
    for (const figures of this.spent.values()) {
      costUsd += figures.costUsd;
      turns += figures.turns;
      sessions += figures.sessions;
    }
    return { costUsd, turns, sessions };
  }

  /** The first cap the total went past; reaching a cap exactly is within it. */
  passed(): PassedLimit | undefined {
    return passedLimit(this.total(), this.limits);
  }

  /** The cap the total reached or passed: what stopped a session that Claude itself ended. */
  reached(): PassedLimit | undefined {
    return passedLimit(this.total(), this.limits, true);
  }
}

export function passedLimit(
  total: Spent,
  limits: ClaudeLimits,
  orReached = false,
): PassedLimit | undefined {
  const past = (used: number, limit: number) => used > limit || (orReached && used >= limit);
  const { maxCostUsd, maxTurns } = limits;
  const sessions = `${total.sessions} session${total.sessions === 1 ? '' : 's'}`;
  if (maxCostUsd !== undefined && past(total.costUsd, maxCostUsd)) {
    return {
      input: Inputs.maxCostUsd,
      message: `Claude's spend ${total.costUsd > maxCostUsd ? 'passed' : 'reached'} ${Inputs.maxCostUsd} ${maxCostUsd}: $${total.costUsd.toFixed(4)} in ${sessions}`,
    };
  }
  if (maxTurns !== undefined && past(total.turns, maxTurns)) {
    return {
      input: Inputs.maxTurns,
      message: `Claude's turns ${total.turns > maxTurns ? 'passed' : 'reached'} ${Inputs.maxTurns} ${maxTurns}: ${total.turns} turns in ${sessions}`,
    };
  }
  return undefined;
}

/**
 * One budget per step: the runs of a step (its plan, its shards, its reduce) share their group's
 * id, and so the budget; each process is one step.
 */
const budgets = new Map<string, ClaudeBudget>();

export function budgetOf(group: string, limits: ClaudeLimits): ClaudeBudget {
  let budget = budgets.get(group);
  if (!budget) budgets.set(group, (budget = new ClaudeBudget(limits)));
  return budget;
}
