/**
 * A MapReduce workflow split across shards with the real `prodigy`: plan, each shard in a checkout
 * of its own (as matrix jobs have), reduce in another. What is asserted is what a user finds: the
 * merged results equal an unsharded run's, every commit reaches the final checkout, failures are
 * counted and named.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputName } from '../../src/config/names.js';
import { cookWith } from '../support/cook.js';
import { ground } from '../support/ground.js';
import { cloneCheckout, plan, reduce, shard } from '../support/mapreduce.js';
import { git, gitWorkspace } from '../support/workspace.js';

const g = ground();
const fixtures = path.resolve(import.meta.dirname, '../fixtures/sharding');

function origin(change: (files: Record<string, string>) => void = () => {}): string {
  const files: Record<string, string> = {};
  for (const name of readdirSync(fixtures)) {
    files[name] = readFileSync(path.join(fixtures, name), 'utf8');
  }
  change(files);
  return gitWorkspace(files);
}

type Runtime = 'local' | 'docker';
function runtimeInputs(runtime: Runtime): Partial<Record<InputName, string>> {
  return runtime === 'docker'
    ? { runtime, image: g.prodigyImage, 'pull-policy': 'never' }
    : { runtime, env: `PATH=${g.bin}:${process.env.PATH}` };
}

interface Result {
  item_id: string;
  status: unknown;
  files_modified?: string[];
}
const readResults = (checkout: string) =>
  JSON.parse(readFileSync(path.join(checkout, 'map-results.json'), 'utf8')) as Result[];
/**
 * What a result says about its item, without the run-specific parts (shas, paths, timings, and
 * the other items' files an agent saw merged before it started): its id, its status, and the file
 * it committed itself.
 */
const essence = (results: Result[]) =>
  results.map(({ item_id, status, files_modified }, index) => ({
    item_id,
    status,
    committedOwnFile: files_modified?.includes(`item-${ORDER[index]}.txt`) ?? false,
  }));
/** The items in Prodigy's order (score DESC, `eight` filtered out), each one's own file. */
const ORDER = ['two', 'six', 'four', 'seven', 'one', 'five', 'three'];

describe.each(['local', 'docker'] as const)('plan, shards and reduce on %s', (runtime) => {
  const rt = runtimeInputs(runtime);

  it('three shards give the merged results of one unsharded run, and every commit', async () => {
    const repo = origin();
    const alone = cloneCheckout(repo);
    const unsharded = await cookWith({ ...rt, workflow: 'sharded.yml' }, { workspace: alone });
    expect(unsharded.outcome.status, unsharded.shown.slice(-20).join('\n')).toBe('succeeded');

    const { planned, matrix } = await plan(
      { ...rt, workflow: 'sharded.yml', shards: '3' },
      cloneCheckout(repo),
    );
    expect(planned.plan.itemCount).toBe(7);
    expect(matrix.include.map((e) => [e.name, e.size])).toEqual([
      ['shard 1 of 3', 3],
      ['shard 2 of 3', 2],
      ['shard 3 of 3', 2],
    ]);

    const dirs: string[] = [];
    for (const entry of matrix.include) {
      const run = await shard(
        { ...rt, workflow: 'sharded.yml', shard: JSON.stringify(entry) },
        cloneCheckout(repo),
      );
      expect(run.outcome.status, run.shown.slice(-20).join('\n')).toBe('succeeded');
      expect(run.results.results.map((r) => r.item_id)).toEqual(
        Array.from({ length: entry.size }, (_, i) => `item_${entry.first + i}`),
      );
      dirs.push(run.dir);
    }

    const final = cloneCheckout(repo);
    const reduced = await reduce({ ...rt, workflow: 'sharded.yml' }, final, dirs);
    expect(reduced.outcome.status, reduced.shown.slice(-20).join('\n')).toBe('succeeded');
    expect(reduced.merged).toMatchObject({ total: 7, successful: 7, failed: 0 });

    // The reduce steps saw the same ${map.results} and totals as the unsharded run's.
    const sharded = essence(readResults(final));
    expect(sharded).toEqual(essence(readResults(alone)));
    expect(sharded.every((result) => result.committedOwnFile)).toBe(true);
    expect(readFileSync(path.join(final, 'map-totals.txt'), 'utf8')).toBe(
      'total=7 successful=7 failed=0\n',
    );
    // Every item's commit, from every shard, is in the final checkout; the filtered one is not.
    for (const name of ['one', 'two', 'three', 'four', 'five', 'six', 'seven']) {
      expect(readFileSync(path.join(final, `item-${name}.txt`), 'utf8')).toBe(`${name}\n`);
    }
    expect(existsSync(path.join(final, 'item-eight.txt'))).toBe(false);
    expect(git(final, 'log', '-1', '--format=%s')).toBe('reduce: results');
    expect(git(final, 'status', '--porcelain')).toBe('');
  });
});

describe('plan, shards and reduce: failures', () => {
  const rt = runtimeInputs('local');
  const withFailure = () =>
    origin((files) => {
      files['work.json'] = files['work.json']!.replace(
        '"name": "four", "score": 7',
        '"name": "four", "score": 7, "fail": "yes"',
      );
    });

  it('a shard whose item fails fails, and reduce counts the item as failed', async () => {
    const repo = withFailure();
    const { matrix } = await plan(
      { ...rt, workflow: 'sharded.yml', shards: '3' },
      cloneCheckout(repo),
    );
    const runs = [];
    for (const entry of matrix.include) {
      runs.push(
        await shard(
          { ...rt, workflow: 'sharded.yml', shard: JSON.stringify(entry) },
          cloneCheckout(repo),
        ),
      );
    }
    // Sorted by score DESC: two(9), six(8), four(7) form shard 1.
    expect(runs.map((r) => r.outcome.status)).toEqual(['failed', 'succeeded', 'succeeded']);
    expect(runs[0]!.outcome.reason).toBe('1 of 3 item(s) failed');
    const failed = runs[0]!.results.results.find((r) => r.status !== 'Success');
    expect(failed?.item_id).toBe('item_2');

    const final = cloneCheckout(repo);
    const reduced = await reduce(
      { ...rt, workflow: 'sharded.yml' },
      final,
      runs.map((r) => r.dir),
    );
    expect(reduced.outcome.status).toBe('failed');
    expect(reduced.outcome.reason).toBe('1 of 7 item(s) failed');
    // The reduce steps still ran, with the failure counted.
    expect(readFileSync(path.join(final, 'map-totals.txt'), 'utf8')).toBe(
      'total=7 successful=6 failed=1\n',
    );
    expect(existsSync(path.join(final, 'item-four.txt'))).toBe(false);
    expect(existsSync(path.join(final, 'item-two.txt'))).toBe(true);
  });

  it('a shard that never ran counts all its items as failed', async () => {
    const repo = origin();
    const { matrix } = await plan(
      { ...rt, workflow: 'sharded.yml', shards: '3' },
      cloneCheckout(repo),
    );
    const dirs: string[] = [];
    for (const entry of [matrix.include[0]!, matrix.include[2]!]) {
      dirs.push(
        (
          await shard(
            { ...rt, workflow: 'sharded.yml', shard: JSON.stringify(entry) },
            cloneCheckout(repo),
          )
        ).dir,
      );
    }
    const final = cloneCheckout(repo);
    const reduced = await reduce({ ...rt, workflow: 'sharded.yml' }, final, dirs);
    expect(reduced.outcome.status).toBe('failed');
    expect(reduced.outcome.reason).toBe('2 of 7 item(s) failed');
    expect(reduced.merged.shards.map((s) => s.status)).toEqual([
      'succeeded',
      'missing',
      'succeeded',
    ]);
    const missing = reduced.merged.results.filter((r) => r.status !== 'Success');
    expect(missing.map((r) => r.item_id)).toEqual(['item_3', 'item_4']);
    expect(String(missing[0]!.error)).toMatch(/^shard 2 of 3 never reported results/);
    expect(readFileSync(path.join(final, 'map-totals.txt'), 'utf8')).toBe(
      'total=7 successful=5 failed=2\n',
    );
  });
});

describe('plan, shards and reduce: commits that conflict', () => {
  it("leaves out a shard whose commits conflict with an earlier shard's, naming the file", async () => {
    const rt = runtimeInputs('local');
    const repo = origin((files) => {
      files['conflict.yml'] = files['sharded.yml']!.replace(
        'echo ${item.name} > item-${item.name}.txt && git add item-${item.name}.txt',
        'echo ${item.name} > shared.txt && git add shared.txt',
      );
      files['work.json'] = JSON.stringify({
        items: [
          { name: 'left', score: 2 },
          { name: 'right', score: 1 },
        ],
      });
    });
    const { matrix } = await plan(
      { ...rt, workflow: 'conflict.yml', shards: '2' },
      cloneCheckout(repo),
    );
    const dirs: string[] = [];
    for (const entry of matrix.include) {
      const run = await shard(
        { ...rt, workflow: 'conflict.yml', shard: JSON.stringify(entry) },
        cloneCheckout(repo),
      );
      expect(run.outcome.status, run.shown.slice(-20).join('\n')).toBe('succeeded');
      dirs.push(run.dir);
    }
    const final = cloneCheckout(repo);
    const reduced = await reduce({ ...rt, workflow: 'conflict.yml' }, final, dirs);
    expect(reduced.conflicts).toEqual([{ shard: 1, files: ['shared.txt'] }]);
    expect(reduced.outcome.status).toBe('failed');
    expect(reduced.outcome.reason).toBe('the commits of shard 2 of 2 conflict with earlier shards');
    expect(reduced.shown).toContain(
      'shard 2 of 2: its commits conflict with earlier shards in shared.txt; they were not merged.',
    );
    // Shard 1's commit is in; the merge of shard 2 was undone, and the reduce steps still ran.
    expect(readFileSync(path.join(final, 'shared.txt'), 'utf8')).toBe('left\n');
    expect(readFileSync(path.join(final, 'map-totals.txt'), 'utf8')).toBe(
      'total=2 successful=2 failed=0\n',
    );
  });
});

describe('plan: where the items come from', () => {
  it.each(['local', 'docker'] as const)(
    'runs setup once on %s: its generated items, commits and captured variables reach every shard',
    async (runtime) => {
      const rt = runtimeInputs(runtime);
      const repo = origin();
      const { planned, matrix, shown } = await plan(
        { ...rt, workflow: 'setup.yml', shards: '2' },
        cloneCheckout(repo),
      );
      expect(planned.plan.itemCount, shown.slice(-20).join('\n')).toBe(3);
      expect(planned.plan.setupBundle).toBe(true);
      expect(planned.plan.captures).toEqual({ SETUP_TAG: 'tag-42' });
      expect(shown.some((l) => l.includes('Setup generated gen-work-items.json'))).toBe(true);

      const dirs: string[] = [];
      for (const entry of matrix.include) {
        const run = await shard(
          { ...rt, workflow: 'setup.yml', shard: JSON.stringify(entry) },
          cloneCheckout(repo),
        );
        expect(run.outcome.status, run.shown.slice(-20).join('\n')).toBe('succeeded');
        dirs.push(run.dir);
      }
      const final = cloneCheckout(repo);
      const reduced = await reduce({ ...rt, workflow: 'setup.yml' }, final, dirs);
      expect(reduced.outcome.status, reduced.shown.slice(-20).join('\n')).toBe('succeeded');
      for (const name of ['x', 'y', 'z']) {
        expect(readFileSync(path.join(final, `item-${name}.txt`), 'utf8')).toBe(
          `${name} tag-42 from-setup\n`,
        );
      }
      expect(git(final, 'log', '--format=%s')).toContain('setup: setup-made.txt');
    },
  );

  it('runs a map.input command once, in the container, and splits what it printed', async () => {
    const repo = origin((files) => {
      files['command.yml'] = [
        'name: command-fixture',
        'mode: mapreduce',
        'map:',
        `  input: "printf '{\\"name\\": \\"a\\"}\\\\nb\\\\n{\\"name\\": \\"c\\"}\\\\n'"`,
        '  agent_template:',
        '    - shell: "true"',
        '',
      ].join('\n');
    });
    const { planned, matrix, shown } = await plan(
      { ...runtimeInputs('docker'), workflow: 'command.yml', shards: '2' },
      cloneCheckout(repo),
    );
    expect(shown.some((l) => l.includes('Running map.input once'))).toBe(true);
    expect(planned.items.map((i) => JSON.stringify(i))).toEqual([
      '{"name":"a"}',
      '{"item":"b"}',
      '{"name":"c"}',
    ]);
    expect(matrix.include.map((e) => e.items)).toEqual([
      '[{"name":"a"},{"item":"b"}]',
      '[{"name":"c"}]',
    ]);
  });

  it('refuses a standard workflow, naming the input', async () => {
    const repo = origin((files) => {
      files['plain.yml'] = '- shell: echo hi\n';
    });
    await expect(
      plan({ ...runtimeInputs('local'), workflow: 'plain.yml', shards: '2' }, repo),
    ).rejects.toThrow(
      /Input 'workflow' has invalid value "plain.yml": expected a MapReduce workflow/,
    );
  });

  it('refuses a filter Prodigy could not read, naming the file, line and column', async () => {
    const repo = origin((files) => {
      files['sharded.yml'] = files['sharded.yml']!.replace(
        'filter: "skip != true"',
        'filter: "just words"',
      );
    });
    await expect(
      plan({ ...runtimeInputs('local'), workflow: 'sharded.yml', shards: '2' }, repo),
    ).rejects.toThrow(
      /^sharded\.yml:9:11: map\.filter: Prodigy cannot read the filter "just words"/,
    );
  });
});
