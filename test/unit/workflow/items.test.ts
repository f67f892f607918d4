/**
 * The item pipeline on its own. What Prodigy itself computes for the same input is checked by
 * test/contract/items.contract.test.ts against the real binary; these pin the rules one by one.
 */
import { describe, expect, it } from 'vitest';
import {
  itemsSourceFromCommand,
  itemsSourceFromFile,
  workItems,
} from '../../../src/workflow/items.js';
import {
  parseJson,
  PipelineError,
  stringifyJson,
  type JsonValue,
} from '../../../src/workflow/values.js';

const doc = (text: string) => parseJson(text);
const names = (items: JsonValue[]) => items.map((item) => (item as { name: string }).name);
const run = (source: string, options: Parameters<typeof workItems>[1]) =>
  workItems(doc(source), options);

const records = JSON.stringify({
  items: [
    { name: 'a', score: 3, severity: 'high', tags: ['x'], p: 5 },
    { name: 'b', score: 10, severity: 'low', p: 5.0 },
    { name: 'c', score: null, severity: 'high', nested: { depth: 2 } },
    { name: 'd', score: 7, severity: 'medium' },
    { name: 'e', score: 10, severity: 'high' },
  ],
}).replace('"severity":"low","p":5}', '"severity":"low","p":5.0}');

describe('json_path', () => {
  it.each([
    ['$.items[*]', ['a', 'b', 'c', 'd', 'e']],
    ['items[*]', ['a', 'b', 'c', 'd', 'e']],
    ['$.items[1]', ['b']],
    ['$.items[?(@.severity == high)]', ['a', 'c', 'e']],
    ['$.items[?(@.score >= 7)]', ['b', 'd', 'e']],
  ])('%s selects %j', (path, expected) => {
    expect(names(run(records, { jsonPath: path }))).toEqual(expected);
  });

  it('keeps a matched array whole: $.items is one item', () => {
    const items = run(records, { jsonPath: '$.items' });
    expect(items).toHaveLength(1);
    expect(Array.isArray(items[0])).toBe(true);
  });

  it('reads $..name as $.name, as Prodigy does, and selects nothing here', () => {
    expect(run(records, { jsonPath: '$..name' })).toEqual([]);
  });

  it('descends recursively further down a path', () => {
    expect(run('{"a":{"b":{"x":1},"c":[{"x":2}]}}', { jsonPath: '$.a..x' }).map(String)).toEqual([
      '1',
      '2',
    ]);
  });

  it('selects nothing with [*] on an object', () => {
    expect(run('{"items":{"a":1}}', { jsonPath: '$.items[*]' })).toEqual([]);
  });

  it('uses the input itself when json_path is empty: an array gives its elements', () => {
    expect(run('[1,2,3]', { jsonPath: '' })).toHaveLength(3);
    expect(run('{"a":1}', {})).toHaveLength(1);
  });

  it('refuses an index Prodigy cannot read, naming the key', () => {
    expect(() => run(records, { jsonPath: '$.items[-1]' })).toThrow(
      /^map\.json_path: invalid array index "-1"/,
    );
  });
});

describe('filter', () => {
  const all = { jsonPath: '$.items[*]' };
  it.each([
    ["severity == 'high'", ['a', 'c', 'e']],
    ['severity == high', ['a', 'c', 'e']],
    ["severity != 'high'", ['b', 'd']],
    ['score >= 7', ['b', 'd', 'e']],
    ["score > 5 && severity == 'high'", ['e']],
    ["score > 5 AND severity == 'high'", ['e']],
    ["score < 5 || severity == 'medium'", ['a', 'd']],
    ["score < 5 or severity == 'medium'", ['a', 'd']],
    ["(severity == 'low' || severity == 'medium')", ['b', 'd']],
    ["severity in ['low', 'medium']", ['b', 'd']],
    ['score == null', ['c']],
    ['missing == null', ['a', 'b', 'c', 'd', 'e']],
    ['is_null(score)', ['c']],
    ['is_not_null(nested)', ['c']],
    ['nested.depth >= 2', ['c']],
    ['tags[0] == x', ['a']],
    ['length(name, 1)', ['a', 'b', 'c', 'd', 'e']],
    ['contains(severity, ig)', ['a', 'c', 'e']],
    ["matches(name, '^[a-c]$')", ['a', 'b', 'c']],
    ['no_such_function(name)', []],
  ])('%s keeps %j', (filter, expected) => {
    expect(names(run(records, { ...all, filter }))).toEqual(expected);
  });

  it('tells the integer 5 from the float 5.0: a number literal equals only floats', () => {
    expect(names(run(records, { ...all, filter: 'p == 5' }))).toEqual(['b']);
    expect(names(run(records, { ...all, filter: 'p >= 5' }))).toEqual(['a', 'b']);
  });

  it('keeps the quotes of a function argument, as Prodigy does', () => {
    expect(names(run(records, { ...all, filter: "contains(severity, 'ig')" }))).toEqual([]);
  });

  it('negates the whole rest of the expression after a leading !', () => {
    // Prodigy reads this as !(severity == 'high' && score == null).
    expect(names(run(records, { ...all, filter: "!severity == 'high' && score == null" }))).toEqual(
      ['a', 'b', 'd', 'e'],
    );
  });

  it.each(['', '   ', 'just words'])('refuses %j, naming map.filter', (filter) => {
    expect(() => run(records, { ...all, filter })).toThrow(PipelineError);
    expect(() => run(records, { ...all, filter })).toThrow(/^map\.filter: Prodigy cannot read/);
  });
});

describe('sort_by', () => {
  const all = { jsonPath: '$.items[*]' };
  it.each([
    ['score', ['a', 'd', 'b', 'e', 'c']],
    ['score DESC', ['b', 'e', 'd', 'a', 'c']],
    ['score DESC NULLS FIRST', ['c', 'b', 'e', 'd', 'a']],
    ['score desc, name desc', ['e', 'b', 'd', 'a', 'c']],
    ['severity, name DESC', ['e', 'c', 'a', 'b', 'd']],
  ])('%s orders %j', (sortBy, expected) => {
    expect(names(run(records, { ...all, sortBy }))).toEqual(expected);
  });

  it('is stable and orders mixed types bool < number < string < array < object', () => {
    const items = run('[{"v":"s"},{"v":1},{"v":true},{"v":{}},{"v":[]},{"v":2,"k":1},{"v":2}]', {
      sortBy: 'v',
    });
    expect(items.map((item) => stringifyJson(item))).toEqual([
      '{"v":true}',
      '{"v":1}',
      '{"v":2,"k":1}',
      '{"v":2}',
      '{"v":"s"}',
      '{"v":[]}',
      '{"v":{}}',
    ]);
  });

  it('refuses an unknown null position and an empty spec', () => {
    expect(() => run(records, { ...all, sortBy: 'score NULLS MIDDLE' })).toThrow(
      /^map\.sort_by: invalid null position "MIDDLE"/,
    );
    expect(() => run(records, { ...all, sortBy: ' , ' })).toThrow(/^map\.sort_by: no sort fields/);
  });
});

describe('max_items and order of the pipeline', () => {
  it('filters, then sorts, then takes the first max_items', () => {
    const items = run(records, {
      jsonPath: '$.items[*]',
      filter: 'score >= 3',
      sortBy: 'score DESC',
      maxItems: 2,
    });
    expect(names(items)).toEqual(['b', 'e']);
  });
});

describe('input sources', () => {
  it('reads a command printing one JSON array as its elements', () => {
    expect(itemsSourceFromCommand(' [1, {"a": 2}] \n')).toHaveLength(2);
  });
  it('wraps any other single JSON value as one item', () => {
    expect(stringifyJson(itemsSourceFromCommand('{"items":[1,2]}'))).toBe('[{"items":[1,2]}]');
  });
  it('reads lines otherwise: JSON lines as values, other lines as {"item": line}', () => {
    const source = itemsSourceFromCommand('alpha\n\n  {"b": 1}  \r\n42\nnot json {\n');
    expect(stringifyJson(source)).toBe('[{"item":"alpha"},{"b":1},42,{"item":"not json {"}]');
  });
  it('gives no items for empty output', () => {
    expect(itemsSourceFromCommand('  \n')).toEqual([]);
  });
  it('keeps numbers exactly as written, so Prodigy reads the same values again', () => {
    const text = '{"a":5,"b":5.0,"c":1e3,"d":12345678901234567890}';
    expect(stringifyJson(itemsSourceFromFile(text, 'items.json'))).toBe(text);
  });
  it('names the file when it is not JSON', () => {
    expect(() => itemsSourceFromFile('{nope', 'work/items.json')).toThrow(
      /^map\.input: work\/items\.json is not valid JSON/,
    );
  });
});
