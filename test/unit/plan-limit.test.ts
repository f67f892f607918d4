/** How many shards a plan may make: GitHub's matrix limit, unless the caller runs them itself. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSettings } from '../../src/config/settings.js';
import { makePlan } from '../../src/mapreduce/plan.js';
import { gitWorkspace } from '../support/workspace.js';

const ITEMS = 300;

function settings() {
  const workspace = gitWorkspace({
    'mr.yml':
      'name: m\nmode: mapreduce\nmap:\n  input: items.json\n  json_path: "$[*]"\n  agent_template: [{shell: "true"}]\n',
    'items.json': JSON.stringify(Array.from({ length: ITEMS }, (_, i) => ({ n: i }))),
  });
  return buildSettings((name) => (name === 'workflow' ? 'mr.yml' : ''), {
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: mkdtempSync(path.join(os.tmpdir(), 'cook-runner-')),
  });
}

const deps = {
  run: () => Promise.reject(new Error('the items are in a file: nothing runs')),
  note: () => {},
};

describe('makePlan', () => {
  it('refuses more shards than a matrix holds, for the plan sub-action', async () => {
    await expect(makePlan(settings(), { shards: ITEMS }, deps)).rejects.toThrow(
      `Input 'shards' has invalid value "300": expected at most 256 shards (GitHub's matrix limit); 300 items would make 300`,
    );
  });

  it('makes as many as the fan-out asks for, which runs them without a matrix', async () => {
    const planned = await makePlan(settings(), { shards: ITEMS }, deps, ITEMS);
    expect(planned.plan.shards).toHaveLength(ITEMS);
    expect(planned.plan.shards.at(-1)).toEqual({ index: ITEMS - 1, first: ITEMS - 1, size: 1 });
  });
});
