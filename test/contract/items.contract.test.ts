/**
 * The item pipeline held to the real `prodigy` 0.4.4: for the same workflow and input, the items
 * cook-action computes are the items Prodigy's agents receive, value for value and in the same
 * positions (item_0, item_1, ...). Each agent writes its `${item_json}` to a file named by its
 * `${item_id}`; the test reads those back and compares them with workItems().
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  itemsSourceFromCommand,
  itemsSourceFromFile,
  workItems,
} from '../../src/workflow/items.js';
import { isFloat, parseJson, type JsonValue } from '../../src/workflow/values.js';
import { parseWorkflow } from '../../src/workflow/model.js';
import { cookWith } from '../support/cook.js';
import { ground } from '../support/ground.js';
import { gitWorkspace } from '../support/workspace.js';

const g = ground();

const ITEMS = {
  items: [
    { name: 'alpha', score: 3, severity: 'high', kind: 'bug', p: 5 },
    { name: 'beta', score: 10, severity: 'low', kind: 'debt', p: '5.0' },
    { name: 'gamma', score: null, severity: 'high', kind: 'bug' },
    { name: 'delta', score: 7, severity: 'medium', kind: 'bug', p: 5.5 },
    { name: 'epsilon', score: 10, severity: 'high', kind: 'debt', tags: ['x', 'y'] },
    { name: 'zeta', score: 1.5, severity: 'high', nested: { depth: 2 } },
    { name: 'eta', severity: 'low', kind: 'bug' },
  ],
  groups: { a: { tasks: [{ name: 'g1' }, { name: 'g2' }] }, b: { tasks: [{ name: 'g3' }] } },
};
// JSON.stringify writes 5.0 as 5; put a real float in, which Prodigy's `==` treats apart.
const ITEMS_TEXT = JSON.stringify(ITEMS, null, 2).replace('"p": "5.0"', '"p": 5.0');

interface Case {
  readonly name: string;
  /** The `map:` keys besides agent_template. */
  readonly map: Record<string, unknown>;
}

const cases: Case[] = [
  {
    name: 'a file with json_path, a compound filter, a multi-key sort and max_items',
    map: {
      input: 'items.json',
      json_path: '$.items[*]',
      filter: "score >= 3 && severity != 'low' || kind == debt",
      sort_by: 'score DESC NULLS FIRST, name',
      max_items: 5,
    },
  },
  {
    name: "Prodigy's own quirks: == tells 5 from 5.0, a leading ! negates the rest, a path filter",
    map: {
      input: 'items.json',
      json_path: '$.items[?(@.kind == bug)]',
      filter: '!p == 5 && severity == high',
    },
  },
  {
    name: 'recursive descent, in-lists and functions',
    map: {
      input: 'items.json',
      json_path: '$.groups..tasks[*]',
      filter: "name in ['g1', 'g3'] || contains(name, 2)",
      sort_by: 'name DESC',
    },
  },
  {
    name: 'a command printing lines: JSON lines as values, text lines as {"item": line}',
    map: {
      input: `printf 'alpha\\n{"name": "b", "n": 2}\\n\\n42\\n  spaced out  \\n'`,
      sort_by: 'item',
    },
  },
  {
    name: 'a command printing one JSON document, reached through the array Prodigy wraps it in',
    map: {
      input: 'cat items.json',
      json_path: '$[0].items[*]',
      filter: 'is_not_null(score)',
      max_items: 4,
    },
  },
];

/** Numbers compared as serde_json sees them: integer or float, and value. */
function canonical(value: JsonValue): unknown {
  if (isLosslessNumber(value)) {
    return isFloat(value)
      ? { float: Number(value.value) }
      : { int: BigInt(value.value).toString() };
  }
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, JsonValue>)[key]!)]),
    );
  }
  return value;
}

describe('work items against the real prodigy', () => {
  it.each(cases)('$name', async ({ map }) => {
    const seen = mkdtempSync(path.join(os.tmpdir(), 'cook-seen-'));
    const workflow = {
      name: 'items-probe',
      mode: 'mapreduce',
      map: {
        ...map,
        // One agent at a time: Prodigy 0.4.4 races when two agents create worktrees at once
        // ("failed to read .git/worktrees/.../commondir"), and an item is lost.
        max_parallel: 1,
        agent_template: [
          { write_file: { path: `${seen}/\${item_id}.json`, content: '${item_json}' } },
        ],
      },
      merge: [
        {
          shell:
            'git -C "$(git rev-parse --path-format=absolute --git-common-dir)/.." merge --no-edit ${merge.source_branch}',
        },
      ],
    };
    // YAML, not JSON: Prodigy knows a MapReduce file by the text `mode: mapreduce`.
    const text = stringify(workflow);
    const workspace = gitWorkspace({ 'items.json': ITEMS_TEXT, 'probe.yml': text });

    // What cook-action computes.
    const model = parseWorkflow('probe.yml', text);
    if (model.kind !== 'mapreduce') throw new Error('the probe must be a MapReduce workflow');
    const input = model.map.input;
    // As Prodigy decides: a file when one exists at that path, else a command.
    const source = existsSync(path.join(workspace, input))
      ? itemsSourceFromFile(readFileSync(path.join(workspace, input), 'utf8'), input)
      : itemsSourceFromCommand(
          execFileSync('sh', ['-c', input], { cwd: workspace, encoding: 'utf8' }),
        );
    const ours = workItems(source, {
      jsonPath: model.map.jsonPath,
      ...(model.map.filter !== undefined ? { filter: model.map.filter } : {}),
      ...(model.map.sortBy !== undefined ? { sortBy: model.map.sortBy } : {}),
      ...(model.map.maxItems !== undefined ? { maxItems: model.map.maxItems } : {}),
    });

    // What Prodigy's agents received.
    const { outcome, shown } = await cookWith(
      { runtime: 'local', workflow: 'probe.yml', env: `PATH=${g.bin}:${process.env.PATH}` },
      { workspace },
    );
    expect(outcome.status, shown.slice(-20).join('\n')).toBe('succeeded');
    const files = readdirSync(seen);
    const theirs = files
      .map((file) => Number(/^item_(\d+)\.json$/.exec(file)![1]))
      .sort((a, b) => a - b)
      .map((index) => parseJson(readFileSync(path.join(seen, `item_${index}.json`), 'utf8')));
    expect(files.length, 'every id from item_0 up, none missing').toBe(
      files.length === 0 ? 0 : Math.max(...files.map((f) => Number(/\d+/.exec(f)![0]))) + 1,
    );

    expect(ours.length).toBeGreaterThan(0);
    expect(theirs.map(canonical)).toEqual(ours.map(canonical));
  });
});
