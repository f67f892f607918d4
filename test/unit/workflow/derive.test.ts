import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GIT_MERGE_STEPS, withGitMerge } from '../../../src/workflow/derive.js';

describe('git-merge', () => {
  it("adds git's merge block to a workflow that has none, in either form, and keeps the rest", () => {
    const listed = parse(withGitMerge('- shell: "make test"\n- claude: "/fix"\n')!);
    expect(listed).toEqual({
      commands: [{ shell: 'make test' }, { claude: '/fix' }],
      merge: GIT_MERGE_STEPS,
    });
    const named = withGitMerge('name: mr\nmode: mapreduce\nmap:\n  input: items.json\n')!;
    // Prodigy knows a MapReduce workflow by this text.
    expect(named).toContain('mode: mapreduce');
    expect(parse(named)).toEqual({
      name: 'mr',
      mode: 'mapreduce',
      map: { input: 'items.json' },
      merge: GIT_MERGE_STEPS,
    });
  });

  it('leaves a workflow with its own merge block, or one Prodigy would not read, as it is', () => {
    expect(withGitMerge('commands:\n  - shell: x\nmerge:\n  - shell: "true"\n')).toBeUndefined();
    expect(withGitMerge('just text')).toBeUndefined();
    expect(withGitMerge('a: [unclosed')).toBeUndefined();
  });
});
