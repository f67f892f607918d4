/**
 * Work items the way Prodigy 0.4.4 computes them, so that shards run exactly the items, in
 * exactly the order, that `prodigy run` alone would (Prodigy 0.4.4, as read from its source).
 *
 * Prodigy's pipeline is its own code, not a JSONPath or expression library, and its answers
 * differ from those libraries' in ways a user would notice (`$..x` reads as `$.x`, `[*]` on an
 * object selects nothing, `p == 5` is false for the integer 5, a leading `!` negates the whole
 * rest of a filter). So this module follows Prodigy's rules, quirks included, and the contract
 * tests hold it to the real binary. Numbers stay as written (lossless-json): Prodigy tells the
 * integer 5 from the float 5.0, and so must we, both here and in the items we hand back to it.
 *
 * Pure: text in, items out. Errors are PipelineErrors naming the workflow key at fault.
 */
import { isLosslessNumber, type LosslessNumber } from 'lossless-json';
import { compileFilter } from './filter.js';
import {
  compareBytes,
  isObject,
  type JsonObject,
  type JsonValue,
  parseJson,
  PipelineError,
  rustF64,
  trimChars,
} from './values.js';

export interface PipelineOptions {
  readonly jsonPath?: string;
  readonly filter?: string;
  readonly sortBy?: string;
  readonly maxItems?: number;
}

/** A `map.input` file's content: one JSON value, used as it is. */
export function itemsSourceFromFile(text: string, file: string): JsonValue {
  try {
    return parseJson(text);
  } catch (error) {
    throw new PipelineError('map.input', `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * A `map.input` command's standard output: the whole of it as one JSON value (an array gives its
 * elements), else one item per non-blank line (JSON, or `{"item": line}`). Prodigy then wraps the
 * list in an array before `json_path` looks at it.
 */
export function itemsSourceFromCommand(stdout: string): JsonValue {
  const whole = tryParse(stdout.trim());
  if (whole !== undefined) return Array.isArray(whole.value) ? whole.value : [whole.value];
  const items: JsonValue[] = [];
  for (const line of rustLines(stdout)) {
    const text = line.trim();
    if (text === '') continue;
    items.push(tryParse(text)?.value ?? { item: text });
  }
  return items;
}

/** Input → json_path → filter → sort_by → max_items (Prodigy's DataPipeline, 0.4.4). */
export function workItems(source: JsonValue, options: PipelineOptions): JsonValue[] {
  const path = options.jsonPath ? compileJsonPath(options.jsonPath) : undefined;
  const filter = options.filter === undefined ? undefined : compileFilter(options.filter);
  const sorter = options.sortBy === undefined ? undefined : compileSort(options.sortBy);

  let items: JsonValue[] = path ? path(source) : Array.isArray(source) ? [...source] : [source];
  if (filter) items = items.filter(filter);
  if (sorter) items = stableSort(items, sorter);
  if (options.maxItems !== undefined) items = items.slice(0, options.maxItems);
  return items;
}

// ---------------------------------------------------------------------------------------------
// json_path

type Selector = (values: JsonValue[]) => JsonValue[];

export function compileJsonPath(expression: string): (doc: JsonValue) => JsonValue[] {
  const steps: Selector[] = [];
  let rest = expression;
  if (rest.startsWith('$')) {
    rest = rest.slice(1);
    if (rest.startsWith('.')) rest = rest.slice(1);
  }
  const readField = (): string => {
    const end = rest.search(/[.[]/);
    const field = end < 0 ? rest : rest.slice(0, end);
    rest = rest.slice(field.length);
    return field;
  };
  while (rest !== '') {
    if (rest.startsWith('..')) {
      rest = rest.slice(2);
      const field = readField();
      steps.push((values) => values.flatMap((v) => descend(v, field)));
    } else if (rest.startsWith('[')) {
      rest = rest.slice(1);
      if (rest.startsWith('*')) {
        rest = rest.slice(1);
        if (rest.startsWith(']')) rest = rest.slice(1);
        steps.push((values) => values.flatMap((v) => (Array.isArray(v) ? v : [])));
      } else if (rest.startsWith('?(')) {
        const end = rest.indexOf(')]');
        if (end < 0) {
          throw new PipelineError(
            'map.json_path',
            `unclosed filter in ${JSON.stringify(expression)}`,
          );
        }
        const test = pathFilter(rest.slice(2, end));
        rest = rest.slice(end + 2);
        steps.push((values) => values.flatMap((v) => (Array.isArray(v) ? v.filter(test) : [])));
      } else {
        const end = rest.indexOf(']');
        if (end >= 0) {
          const text = rest.slice(0, end);
          if (!/^\+?\d+$/.test(text)) {
            throw new PipelineError(
              'map.json_path',
              `invalid array index ${JSON.stringify(text)} in ${JSON.stringify(expression)}: Prodigy takes [N], [*] or [?(@.field op value)]`,
            );
          }
          const index = Number(text);
          rest = rest.slice(end + 1);
          steps.push((values) =>
            values.flatMap((v) => (Array.isArray(v) && index < v.length ? [v[index]!] : [])),
          );
        }
      }
    } else {
      const field = readField();
      if (field !== '') steps.push((values) => values.flatMap((v) => fieldOf(v, field)));
    }
    if (rest.startsWith('.') && !rest.startsWith('..')) rest = rest.slice(1);
  }
  return (doc) => steps.reduce((values, step) => step(values), [doc]);
}

function fieldOf(value: JsonValue, field: string): JsonValue[] {
  return isObject(value) && Object.hasOwn(value, field) ? [value[field]!] : [];
}

/** Prodigy's `..name`: the node's own `name`, then every child's, keys in sorted order. */
function descend(value: JsonValue, field: string): JsonValue[] {
  const found = fieldOf(value, field);
  if (Array.isArray(value)) for (const child of value) found.push(...descend(child, field));
  else if (isObject(value)) {
    for (const key of Object.keys(value).sort(byCodePoint))
      found.push(...descend(value[key]!, field));
  }
  return found;
}

/** `[?(@.field op value)]`: exactly three words, one level of field, numbers as f64. */
function pathFilter(expression: string): (item: JsonValue) => boolean {
  const words = expression.split(/\s+/).filter(Boolean);
  if (words.length !== 3) return () => false;
  const field = words[0]!.replace(/^(@\.)+/, '');
  const op = words[1]!;
  const expected = trimChars(trimChars(words[2]!, '"'), "'");
  const expectedNumber = rustF64(expected);
  return (item) => {
    const actual = isObject(item) && Object.hasOwn(item, field) ? item[field] : undefined;
    const n = isLosslessNumber(actual) ? Number(actual.value) : undefined;
    switch (op) {
      case '==':
      case '=':
        if (typeof actual === 'string') return actual === expected;
        return n !== undefined && expectedNumber !== undefined && n === expectedNumber;
      case '!=':
        return typeof actual === 'string' ? actual !== expected : true;
      case '>':
        return n !== undefined && expectedNumber !== undefined && n > expectedNumber;
      case '<':
        return n !== undefined && expectedNumber !== undefined && n < expectedNumber;
      case '>=':
        return n !== undefined && expectedNumber !== undefined && n >= expectedNumber;
      case '<=':
        return n !== undefined && expectedNumber !== undefined && n <= expectedNumber;
      default:
        return false;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// sort_by

type Comparator = (a: JsonValue, b: JsonValue) => number;

export function compileSort(spec: string): Comparator {
  const fields: { path: string[]; descending: boolean; nullsFirst: boolean }[] = [];
  for (const part of spec.split(',')) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    let i = 1;
    let descending = false;
    let nullsFirst = false;
    const direction = words[i]?.toUpperCase();
    if (direction === 'DESC' || direction === 'DESCENDING') {
      descending = true;
      i++;
    } else if (direction === 'ASC' || direction === 'ASCENDING') {
      i++;
    }
    if (words[i]?.toUpperCase() === 'NULLS') {
      i++;
      const position = words[i]?.toUpperCase();
      if (position === 'FIRST') nullsFirst = true;
      else if (position !== undefined && position !== 'LAST') {
        throw new PipelineError(
          'map.sort_by',
          `invalid null position ${JSON.stringify(words[i])}: use NULLS FIRST or NULLS LAST`,
        );
      }
    }
    fields.push({ path: words[0]!.split('.'), descending, nullsFirst });
  }
  if (fields.length === 0) {
    throw new PipelineError(
      'map.sort_by',
      `no sort fields in ${JSON.stringify(spec)}: expected e.g. "score DESC, name"`,
    );
  }
  return (a, b) => {
    for (const field of fields) {
      const x = nested(a, field.path);
      const y = nested(b, field.path);
      const xNull = x === undefined || x === null;
      const yNull = y === undefined || y === null;
      let order: number;
      if (xNull && yNull) order = 0;
      else if (xNull) order = field.nullsFirst ? -1 : 1;
      else if (yNull) order = field.nullsFirst ? 1 : -1;
      else order = (field.descending ? -1 : 1) * compareValues(x, y);
      if (order !== 0) return order;
    }
    return 0;
  };
}

function nested(item: JsonValue, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = item;
  for (const part of path) {
    current = isObject(current) && Object.hasOwn(current, part) ? current[part] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

function compareValues(a: JsonValue, b: JsonValue): number {
  const rank = (v: JsonValue) =>
    v === null
      ? 0
      : typeof v === 'boolean'
        ? 1
        : isLosslessNumber(v)
          ? 2
          : typeof v === 'string'
            ? 3
            : Array.isArray(v)
              ? 4
              : 5;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return Math.sign(ra - rb);
  if (typeof a === 'boolean') return Number(a) - Number(b as boolean);
  if (isLosslessNumber(a)) {
    const x = Number(a.value);
    const y = Number((b as LosslessNumber).value);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string') return compareBytes(a, b as string);
  if (Array.isArray(a)) return Math.sign(a.length - (b as JsonValue[]).length);
  if (isObject(a)) return Math.sign(Object.keys(a).length - Object.keys(b as JsonObject).length);
  return 0;
}

function stableSort(items: JsonValue[], compare: Comparator): JsonValue[] {
  // Array.prototype.sort is stable (ES2019), as Rust's sort_by is.
  return [...items].sort(compare);
}

// ---------------------------------------------------------------------------------------------
// helpers

function byCodePoint(a: string, b: string): number {
  return compareBytes(a, b);
}

/** Rust's `str::lines`: split on `\n`, one trailing `\r` removed, no empty last line. */
function rustLines(text: string): string[] {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function tryParse(text: string): { value: JsonValue } | undefined {
  if (text === '') return undefined;
  try {
    return { value: parseJson(text) };
  } catch {
    return undefined;
  }
}
