import { describe, expect, it } from 'vitest';
import { parseWorkflow, WorkflowError } from '../../../src/workflow/model.js';
import { layoutShards } from '../../../src/workflow/shards.js';

describe('parseWorkflow', () => {
  it('reads a standard workflow written as a list of steps', () => {
    const wf = parseWorkflow('wf.yml', '- shell: echo one\n- claude: /lint\n');
    expect(wf).toMatchObject({
      kind: 'standard',
      commands: [{ shell: 'echo one' }, { claude: '/lint' }],
    });
  });

  it('reads a standard workflow with commands, env and a name', () => {
    const wf = parseWorkflow('wf.yml', 'name: fix\nenv:\n  A: 1\ncommands:\n  - shell: echo $A\n');
    expect(wf).toMatchObject({ kind: 'standard', name: 'fix', env: { A: '1' } });
  });

  it('reads a MapReduce workflow with its pipeline, setup and reduce', () => {
    const wf = parseWorkflow(
      'debt.yml',
      [
        'name: debt',
        'mode: mapreduce',
        'setup:',
        '  - shell: make items',
        'map:',
        '  input: items.json',
        '  json_path: "$.items[*]"',
        '  filter: "severity == \'high\'"',
        '  sort_by: score DESC',
        '  max_items: 20',
        '  max_parallel: 4',
        '  agent_template:',
        '    commands:',
        '      - claude: /fix ${item.file}',
        'reduce:',
        '  - shell: echo ${map.total}',
        '',
      ].join('\n'),
    );
    expect(wf.kind).toBe('mapreduce');
    if (wf.kind !== 'mapreduce') return;
    expect(wf.setup?.commands).toEqual([{ shell: 'make items' }]);
    expect(wf.map).toMatchObject({
      input: 'items.json',
      jsonPath: '$.items[*]',
      filter: "severity == 'high'",
      sortBy: 'score DESC',
      maxItems: 20,
      maxParallel: 4,
      agentTemplate: [{ claude: '/fix ${item.file}' }],
    });
    expect(wf.reduce).toEqual([{ shell: 'echo ${map.total}' }]);
  });

  it('keeps max_parallel given as a variable for Prodigy to resolve', () => {
    const wf = parseWorkflow(
      'wf.yml',
      'name: x\nmode: mapreduce\nmap:\n  input: i.json\n  max_parallel: $WORKERS\n  agent_template: [{shell: "true"}]\n',
    );
    expect(wf.kind === 'mapreduce' && wf.map.maxParallel).toBe('$WORKERS');
  });

  it.each([
    [
      'name: x\nmode: mapreduce\nmap:\n  agent_template: []\n',
      'wf.yml:4:3: `map.input` is required',
    ],
    ['mode: mapreduce\nmap:\n  input: a\n', 'wf.yml:1:1: a MapReduce workflow needs a `name`'],
    [
      'name: x\nmode: mapreduce\nmap:\n  input: a.json\n  max_items: many\n  agent_template: []\n',
      'wf.yml:5:14: `max_items` must be a whole number',
    ],
    [
      'name: x\nmode: mapreduce\nmap:\n  input: a.json\n  agent_template:\n    - just text\n',
      'wf.yml:6:7: each step in `map.agent_template` must be a mapping',
    ],
    ['commands:\n  - shell: [unclosed\n', 'wf.yml:3:1: not valid YAML'],
    ['name: only a name\n', 'wf.yml:1:1: a standard workflow needs `commands`'],
  ])('names file, line and column: %j', (text, message) => {
    const error = (() => {
      try {
        parseWorkflow('wf.yml', text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(WorkflowError);
    expect((error as Error).message.startsWith(message)).toBe(true);
  });
});

describe('layoutShards', () => {
  it('balances contiguous shards, larger ones first', () => {
    expect(layoutShards(10, { shards: 3 })).toEqual([
      { index: 0, first: 0, size: 4 },
      { index: 1, first: 4, size: 3 },
      { index: 2, first: 7, size: 3 },
    ]);
  });
  it('makes no more shards than items, and one empty shard for no items', () => {
    expect(layoutShards(2, { shards: 5 })).toHaveLength(2);
    expect(layoutShards(0, { shards: 5 })).toEqual([{ index: 0, first: 0, size: 0 }]);
  });
  it('turns items-per-shard into a count, then balances', () => {
    expect(layoutShards(10, { itemsPerShard: 4 }).map((s) => s.size)).toEqual([4, 3, 3]);
  });
  it('covers every item exactly once, in order', () => {
    for (const [n, k] of [
      [500, 7],
      [257, 256],
      [1, 1],
    ] as const) {
      const layout = layoutShards(n, { shards: k });
      expect(layout.reduce((sum, s) => sum + s.size, 0)).toBe(n);
      layout.forEach(
        (s, i) => i > 0 && expect(s.first).toBe(layout[i - 1]!.first + layout[i - 1]!.size),
      );
      expect(
        Math.max(...layout.map((s) => s.size)) - Math.min(...layout.map((s) => s.size)),
      ).toBeLessThanOrEqual(1);
    }
  });
});
