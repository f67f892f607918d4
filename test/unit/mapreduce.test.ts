/** The pure parts of splitting: the shard input, the matrix, derived workflows, merging results. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readShardRequest } from '../../src/config/mapreduce.js';
import { parseShardEntry } from '../../src/config/shard.js';
import { MATRIX_INLINE_LIMIT, planMatrix } from '../../src/mapreduce/matrix.js';
import type { PlannedRun } from '../../src/mapreduce/plan.js';
import {
  type AgentResult,
  mapResultsText,
  mergeResults,
  RESULTS_FORMAT,
  type ShardResults,
} from '../../src/mapreduce/results.js';
import { planWorkflow, reduceWorkflow, shardWorkflow } from '../../src/workflow/derive.js';
import { parseJson } from '../../src/workflow/values.js';
import { parseWorkflow, type MapReduceWorkflow } from '../../src/workflow/model.js';
import { layoutShards } from '../../src/workflow/shards.js';

const WF = parseWorkflow(
  'debt.yml',
  [
    'name: debt',
    'mode: mapreduce',
    'env: { TEAM: core }',
    'setup:',
    '  commands: [{shell: "make list"}]',
    '  capture_outputs: { TAG: 0 }',
    'map:',
    '  input: items.json',
    '  json_path: "$.items[*]"',
    '  filter: "score > 1"',
    '  sort_by: score DESC',
    '  max_items: 9',
    '  max_parallel: 3',
    '  agent_template: [{shell: "fix ${item.name}"}]',
    'reduce:',
    '  - shell: "echo ${map.successful}/${map.total} failed=${map.failed}"',
    '  - write_file: {path: r.json, content: "${map.results}", format: json}',
    'merge: [{shell: "git merge ${merge.source_branch}"}]',
    '',
  ].join('\n'),
) as MapReduceWorkflow;

describe('derived workflows', () => {
  it('a shard runs the map phase as written over its own items, and hands back ${map.results}', () => {
    const text = shardWorkflow(WF, {
      itemsFile: '/cook/exchange/items.json',
      resultsFile: '/cook/exchange/results.json',
      captures: { TAG: 'v1' },
    });
    expect(text).toContain('mode: mapreduce');
    const derived = parse(text);
    expect(derived.setup).toBeUndefined();
    expect(derived.env).toEqual({ TEAM: 'core', TAG: 'v1' });
    expect(derived.map).toEqual({
      input: '/cook/exchange/items.json',
      json_path: '',
      max_parallel: 3,
      agent_template: [{ shell: 'fix ${item.name}' }],
    });
    expect(derived.reduce).toEqual([
      { write_file: { path: '/cook/exchange/results.json', content: '${map.results}' } },
    ]);
    expect(derived.merge).toEqual(WF.raw.merge);
  });

  it('the plan keeps setup as written, appends one step, and makes no agent run', () => {
    const derived = parse(planWorkflow(WF, { exchange: '/x', base: 'abc', token: 'T' }));
    expect(derived.setup.capture_outputs).toEqual({ TAG: 0 });
    expect(derived.setup.commands).toHaveLength(2);
    expect(derived.setup.commands[0]).toEqual({ shell: 'make list' });
    expect(derived.setup.commands[1].shell).toBe(
      "sh /x/plan-setup.sh 'abc' <<'T'\nitems.json\nT\ncat > /x/captures/TAG <<'T'\n${TAG}\nT",
    );
    expect(derived.map.max_items).toBe(0);
    expect(derived.map.input).toBe("sh /x/plan-input.sh <<'T'\nitems.json\nT");
  });

  it('reduce has ${map.*} filled in, with a placeholder map of one empty item', () => {
    const derived = parse(
      reduceWorkflow(WF, {
        total: 3,
        successful: 2,
        failed: 1,
        resultsText: '[{"item_id":"item_0"}]',
      }),
    );
    expect(derived.reduce).toEqual([
      { shell: 'echo 2/3 failed=1' },
      { write_file: { path: 'r.json', content: '[{"item_id":"item_0"}]', format: 'json' } },
    ]);
    expect(derived.map.input).toBe("printf '[{}]'");
  });
});

describe('the matrix and the shard input', () => {
  const planned = (items: number): PlannedRun => {
    const list = Array.from({ length: items }, (_, i) =>
      parseJson(`{"n": ${i}.0, "pad": "${'x'.repeat(200)}"}`),
    );
    return {
      dir: '/tmp/plan',
      items: list,
      plan: {
        format: 'cook-action/plan@1',
        id: 'p1',
        workflow: 'debt.yml',
        base: 'b'.repeat(40),
        itemCount: items,
        shards: layoutShards(items, { shards: 4 }),
        captures: {},
        setupBundle: false,
      },
    };
  };

  it('carries the items inline, as JSON text that keeps 5.0 apart from 5', () => {
    const { matrix, inline } = planMatrix(planned(10), undefined);
    expect(inline).toBe(true);
    expect(matrix.include).toHaveLength(4);
    expect(matrix.include[0]!.items!.startsWith('[{"n":0.0,')).toBe(true);
    const entry = parseShardEntry(JSON.stringify(matrix.include[1]));
    expect(entry).toMatchObject({
      name: 'shard 2 of 4',
      shard: 1,
      shards: 4,
      total: 10,
      first: 3,
      size: 3,
    });
  });

  it('leaves the items to the artifact when the matrix would pass 256 KiB', () => {
    const { matrix, text, inline } = planMatrix(planned(2000), 'cook-plan-p1');
    expect(inline).toBe(false);
    expect(Buffer.byteLength(text)).toBeLessThan(MATRIX_INLINE_LIMIT);
    expect(matrix.include[0]).toMatchObject({ artifact: 'cook-plan-p1', dir: '/tmp/plan' });
    expect(matrix.include[0]!.items).toBeUndefined();
  });

  it.each([
    ['not json', /not JSON/],
    ['[1]', /expected one entry of the matrix/],
    ['{"shard": 0}', /missing or wrong: shards \(a whole number\), total/],
    [
      '{"name":"s","shard":3,"shards":3,"total":1,"first":0,"size":1,"plan":"p","workflow":"w","base":"b","dir":"d","setup":false}',
      /shard \(below shards\)/,
    ],
  ])('refuses %s, naming the input', (raw, message) => {
    expect(() => parseShardEntry(raw)).toThrow(/^Input 'shard' has invalid value/);
    expect(() => parseShardEntry(raw)).toThrow(message);
  });

  it.each([
    [{ shards: '3' }, { shards: 3 }],
    [{ 'items-per-shard': '25' }, { itemsPerShard: 25 }],
  ])('reads %j', (inputs, request) => {
    expect(readShardRequest((n) => (inputs as Record<string, string>)[n] ?? '')).toEqual(request);
  });

  it.each([
    [{}, /Input 'shards' has invalid value "": expected a number of shards from 1 to 256/],
    [{ shards: '257' }, /from 1 to 256/],
    [{ shards: '2', 'items-per-shard': '3' }, /Input 'items-per-shard'/],
  ])('refuses %j', (inputs, message) => {
    expect(() => readShardRequest((n) => (inputs as Record<string, string>)[n] ?? '')).toThrow(
      message,
    );
  });
});

describe('mergeResults', () => {
  const result = (id: number, ok = true): AgentResult => ({
    item_id: `item_${id}`,
    status: ok ? 'Success' : { Failed: 'boom' },
    commits: [],
  });
  const shard = (index: number, attempt: number, results: AgentResult[]): ShardResults => {
    const layout = layoutShards(5, { shards: 3 })[index]!;
    return {
      format: RESULTS_FORMAT,
      plan: 'p',
      workflow: 'w.yml',
      shard: index,
      shards: 3,
      total: 5,
      first: layout.first,
      size: layout.size,
      attempt,
      status: results.every((r) => r.status === 'Success') ? 'succeeded' : 'failed',
      reason: '',
      durationSeconds: 1,
      results,
    };
  };

  it('orders items, takes the newest attempt of a shard, and fails the items of a missing one', () => {
    const merged = mergeResults(
      [
        { file: 'c', results: shard(2, 1, [result(4)]) },
        { file: 'a1', results: shard(0, 1, [result(0, false), result(1)]) },
        { file: 'a2', results: shard(0, 2, [result(0), result(1)]) },
      ],
      'w.yml',
    );
    expect(merged.results.map((r) => [r.item_id, r.status === 'Success'])).toEqual([
      ['item_0', true],
      ['item_1', true],
      ['item_2', false],
      ['item_3', false],
      ['item_4', true],
    ]);
    expect(merged).toMatchObject({ total: 5, successful: 3, failed: 2 });
    expect(merged.shards.map((s) => [s.status, s.attempt])).toEqual([
      ['succeeded', 2],
      ['missing', undefined],
      ['succeeded', 1],
    ]);
  });

  it("takes the plan of the newest attempt when the whole run was re-run, and only its shards'", () => {
    const rerun = (index: number, results: AgentResult[]) => ({
      ...shard(index, 2, results),
      plan: 'q',
    });
    const merged = mergeResults(
      [
        { file: 'old0', results: shard(0, 1, [result(0), result(1)]) },
        { file: 'old1', results: shard(1, 1, [result(2), result(3)]) },
        { file: 'new0', results: rerun(0, [result(0), result(1)]) },
      ],
      'w.yml',
    );
    expect(merged.plan).toBe('q');
    expect(merged.shards.map((s) => s.status)).toEqual(['succeeded', 'missing', 'missing']);
  });

  it('refuses results of two plans of the same attempt', () => {
    const other = { ...shard(1, 1, []), plan: 'q' };
    expect(() =>
      mergeResults(
        [
          { file: 'a', results: shard(0, 1, []) },
          { file: 'b', results: other },
        ],
        'w.yml',
      ),
    ).toThrow(/2 different plans/);
  });

  it("renders ${map.results} as Prodigy does: compact, keys sorted, '' when empty", () => {
    expect(mapResultsText([])).toBe('');
    expect(mapResultsText([{ status: 'Success', item_id: 'item_0', commits: [] }])).toBe(
      '[{"commits":[],"item_id":"item_0","status":"Success"}]',
    );
  });
});
