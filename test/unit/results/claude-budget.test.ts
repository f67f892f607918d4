import { describe, expect, it } from 'vitest';
import { heldToLimits } from '../../../src/engine/verdict.js';
import { budgetOf, ClaudeBudget, passedLimit } from '../../../src/results/claude-budget.js';

const spent = (costUsd: number, turns: number, sessions = 1) => ({ costUsd, turns, sessions });

describe('the step’s Claude budget', () => {
  it('adds up the latest reading of every run, and passes a cap only above it', () => {
    const budget = new ClaudeBudget({ maxCostUsd: 0.05, maxTurns: 6 });
    budget.record('shard-1', spent(0.01, 2));
    budget.record('shard-1', spent(0.02, 3));
    budget.record('shard-2', spent(0.03, 3));
    expect(budget.total()).toEqual(spent(0.05, 6, 2));
    expect(budget.passed()).toBeUndefined();
    expect(budget.reached()).toEqual({
      input: 'max-cost-usd',
      message: "Claude's spend reached max-cost-usd 0.05: $0.0500 in 2 sessions",
    });
    budget.record('reduce', spent(0, 1));
    expect(budget.passed()).toEqual({
      input: 'max-turns',
      message: "Claude's turns passed max-turns 6: 7 turns in 3 sessions",
    });
  });

  it('names the spend first when both caps are passed', () => {
    expect(passedLimit(spent(1.5, 90), { maxCostUsd: 1, maxTurns: 10 })?.message).toBe(
      "Claude's spend passed max-cost-usd 1: $1.5000 in 1 session",
    );
    expect(passedLimit(spent(1.5, 90), {})).toBeUndefined();
  });

  it('is one per step: the runs of a group share it', () => {
    const a = budgetOf('group-a', { maxTurns: 1 });
    expect(budgetOf('group-a', { maxTurns: 1 })).toBe(a);
    expect(budgetOf('group-b', { maxTurns: 1 })).not.toBe(a);
  });

  it('fails a run that ended past a cap, and says why a failed one at the cap stopped', () => {
    const budget = new ClaudeBudget({ maxTurns: 3 });
    budget.record('run', spent(0.1, 4));
    expect(heldToLimits(budget, 'succeeded', 'exit code 0')).toEqual({
      status: 'failed',
      reason:
        "Claude's turns passed max-turns 3: 4 turns in 1 session, before the run could be stopped",
    });
    budget.record('run', spent(0.1, 3));
    expect(heldToLimits(budget, 'succeeded', 'exit code 0')).toEqual({
      status: 'succeeded',
      reason: 'exit code 0',
    });
    expect(heldToLimits(budget, 'failed', 'exit code 1')).toEqual({
      status: 'failed',
      reason:
        "exit code 1; Claude's turns reached max-turns 3: 3 turns in 1 session (Claude stops a session there)",
    });
    expect(heldToLimits(budget, 'cancelled', 'the run was cancelled').status).toBe('cancelled');
  });
});
