import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedTemplate } from '../../../src/runtime/kubernetes/indexed-job.js';
import type { RunSpec } from '../../../src/runtime/types.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-indexed-'));

/** Shard n's spec as the fan-out makes it: its own checkout, exchange folder and run id. */
function shard(n: number, workflow = 'name: sharded\n'): RunSpec {
  const file = path.join(dir, `shard-${n}.yml`);
  writeFileSync(file, workflow);
  return {
    runId: `run-${n}`,
    name: `cook-run-${n}`,
    labels: { 'io.prodigy.cook-action.run': 'run' },
    argv: ['sh', '-c', 'prodigy run "$1"', 'prodigy', '/cook/exchange/workflow.yml'],
    workdir: '/workspace',
    env: { COOK_ACTION_RUN_ID: 'run', COOK_BRANCH: 'cook/run' },
    secretEnv: { TOKEN: 's3cret' },
    mounts: [
      { host: `/runs/shard-${n}/checkout`, target: '/workspace' },
      { host: `/runs/shard-${n}/exchange`, target: '/cook/exchange' },
    ],
    transferLimit: { bytes: 1024, text: '1Ki' },
    origin: { submitter: 'octocat' },
    workflowFile: { host: file, argIndex: 4 },
  };
}

describe('sharedTemplate', () => {
  it('lets shards through that differ only in their folders on the runner and their run ids', () => {
    expect(() => sharedTemplate([shard(1), shard(2), shard(3)])).not.toThrow();
  });

  it('refuses a shard whose variables differ, naming it and what differs', () => {
    const third = { ...shard(3), env: { ...shard(3).env, COOK_BRANCH: 'cook/run-3' } };
    expect(() => sharedTemplate([shard(1), shard(2), third])).toThrow(
      "shard 3's pod would differ from shard 1's in env, so the shards cannot share one Indexed Job",
    );
  });

  it('refuses a shard whose workflow file says something else', () => {
    expect(() => sharedTemplate([shard(1), shard(2, 'name: other\n')])).toThrow(
      /^shard 2's pod would differ from shard 1's in workflow,/,
    );
  });

  it('refuses a shard that mounts a folder elsewhere', () => {
    const moved = { ...shard(2), mounts: [{ host: '/runs/shard-2/checkout', target: '/work' }] };
    expect(() => sharedTemplate([shard(1), moved])).toThrow(/in mounts,/);
  });
});
