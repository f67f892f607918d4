/** Which branch names the action passes on: real git, a branch named by a hostile workload. */
import { describe, expect, it } from 'vitest';
import { gitResult, isSafeBranchName, snapshot } from '../../../src/results/git.js';
import { outcomeOutputs } from '../../../src/report/outputs.js';
import { git, gitWorkspace } from '../../support/workspace.js';

describe('branch names', () => {
  it.each(['main', 'cook/run-1', 'prodigy-session-0b1e2f', 'feature/a.b_c-d', 'v1.2'])(
    'passes on %j',
    (name) => expect(isSafeBranchName(name)).toBe(true),
  );

  it.each([
    'x$(id)',
    'a`id`',
    "it's",
    'a b',
    'a;b',
    '-rf',
    '.hidden',
    'a/.b',
    'a..b',
    'x.lock',
    'a//b',
    'a/',
    'é\n',
    '',
    'a'.repeat(201),
  ])('refuses %j', (name) => expect(isSafeBranchName(name)).toBe(false));

  it('a run that leaves the checkout on a branch named x$(id) has no branch output', async () => {
    const dir = gitWorkspace({ 'a.txt': 'a\n' });
    const before = (await snapshot(dir))!;
    git(dir, 'checkout', '-q', '-b', 'x$(id)');
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'planted');
    const result = (await gitResult(dir, before))!;
    expect(result.refusedBranch).toBe('x$(id)');
    expect(result.commits).toBe(1);
    const outputs = outcomeOutputs({
      runtime: 'docker',
      status: 'succeeded',
      reason: 'exit code 0',
      logPath: '/tmp/log',
      startedAt: 0,
      endedAt: 1,
      durationSeconds: 1,
      git: result,
    });
    expect(outputs).not.toHaveProperty('branch');
    expect(outputs.commits).toBe('1');
    expect(JSON.stringify(outputs)).not.toContain('$(id)');
  });
});
