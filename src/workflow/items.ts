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
import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

export type JsonValue =
  null | boolean | string | LosslessNumber | JsonValue[] | { [key: string]: JsonValue };

type JsonObject = { [key: string]: JsonValue };

/** A pipeline setting Prodigy would refuse: names the key (`map.filter`, ...) and the problem. */
export class PipelineError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${key}: ${problem}`);
    this.name = 'PipelineError';
  }
}

export interface PipelineOptions {
  readonly jsonPath?: string;
  readonly filter?: string;
  readonly sortBy?: string;
  readonly maxItems?: number;
}

/** Parses JSON keeping every number as written. Throws on invalid JSON. */
export function parseJson(text: string): JsonValue {
  return parse(text) as JsonValue;
}

/** Serializes, writing numbers back exactly as they were read. */
export function stringifyJson(value: JsonValue, indent?: number): string {
  return stringify(value, undefined, indent) ?? 'null';
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
// filter

type Predicate = (item: JsonValue) => boolean;

/** A literal on the right of a comparison: Prodigy makes every number literal a float. */
type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'float'; readonly value: number };

export function compileFilter(expression: string): Predicate {
  try {
    return parseFilter(expression);
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    throw new PipelineError('map.filter', (error as Error).message);
  }
}

function invalid(expression: string): PipelineError {
  return new PipelineError(
    'map.filter',
    `Prodigy cannot read the filter ${JSON.stringify(expression)}: expected comparisons such as ` +
      `severity == 'high' or score >= 10, joined with && / || / AND / OR, ! for not, ` +
      `field in ['a', 'b'], or functions such as contains(field, text)`,
  );
}

function parseFilter(raw: string): Predicate {
  const expr = raw.trim();
  // 1. Parentheses around the whole expression.
  if (expr.startsWith('(') && expr.endsWith(')') && parensWrapAll(expr)) {
    return parseFilter(expr.slice(1, -1));
  }
  // 2. A leading `!` negates everything after it.
  if (expr.startsWith('!')) {
    const inner = expr.slice(1).trim();
    const operand =
      inner.startsWith('(') && inner.endsWith(')')
        ? parseFilter(inner.slice(1, -1))
        : parseFilter(inner);
    return (item) => !operand(item);
  }
  // 3, 4. The first top-level `||` (or word OR), then `&&` (or word AND).
  for (const [symbol, word, join] of [
    ['||', 'OR', 'or'],
    ['&&', 'AND', 'and'],
  ] as const) {
    let at = findSymbol(expr, symbol);
    let length = 2;
    if (at < 0) {
      at = findWord(expr, word);
      // Prodigy skips two characters after a word OR and three after a word AND.
      length = word.length;
    }
    if (at >= 0) {
      const left = parseFilter(expr.slice(0, at));
      const right = parseFilter(expr.slice(at + length));
      return join === 'or'
        ? (item) => left(item) || right(item)
        : (item) => left(item) && right(item);
    }
  }
  // 5. `field in [a, b]`: the values are always strings.
  const inAt = expr.indexOf(' in ');
  if (inAt >= 0) {
    const field = fieldPath(expr.slice(0, inAt).trim());
    const list = expr.slice(inAt + 4).trim();
    if (!list.startsWith('[') || !list.endsWith(']')) {
      throw new PipelineError(
        'map.filter',
        `the 'in' list in ${JSON.stringify(expr)} must be written [a, b, ...]`,
      );
    }
    const values = list
      .slice(1, -1)
      .split(',')
      .map((value) => trimChars(trimChars(value.trim(), "'"), '"'));
    return (item) => {
      const actual = field(item);
      return typeof actual === 'string' && values.includes(actual);
    };
  }
  // 6. A function call: the name before the first `(`, arguments up to the last `)`.
  if (expr.includes('(') && expr.includes(')')) {
    const open = expr.indexOf('(');
    const close = expr.lastIndexOf(')');
    if (close <= open) throw invalid(expr);
    const name = expr.slice(0, open).trim();
    const inside = expr.slice(open + 1, close);
    const args = inside === '' ? [] : inside.split(',').map((arg) => arg.trim());
    return filterFunction(name, args);
  }
  // 7. A comparison: the first operator of this list found anywhere.
  for (const op of ['==', '!=', '>=', '<=', '>', '<', '='] as const) {
    const at = expr.indexOf(op);
    if (at < 0) continue;
    const field = fieldPath(expr.slice(0, at).trim());
    const literal = parseLiteral(expr.slice(at + op.length).trim());
    return comparison(field, op, literal);
  }
  throw invalid(expr);
}

function parensWrapAll(expr: string): boolean {
  const chars = [...expr];
  let depth = 0;
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '(') depth++;
    else if (chars[i] === ')') {
      depth--;
      if (depth === 0 && i < chars.length - 1) return false;
    }
  }
  return depth === 0;
}

/** Index of the first `symbol` outside parentheses (quotes are not looked at, as in Prodigy). */
function findSymbol(expr: string, symbol: string): number {
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && expr.startsWith(symbol, i)) return i;
  }
  return -1;
}

/** The first word operator (any case) outside parentheses, with whitespace before and after. */
function findWord(expr: string, word: string): number {
  const upper = expr.toUpperCase();
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    if (expr[i] === '(') depth++;
    else if (expr[i] === ')') depth--;
    if (depth !== 0) continue;
    const before = i === 0 || /\s/.test(expr[i - 1]!);
    const after = i + word.length >= expr.length || /\s/.test(expr[i + word.length]!);
    if (before && upper.startsWith(word, i) && after) return i;
  }
  return -1;
}

function parseLiteral(text: string): Literal {
  if (
    text.length >= 2 &&
    ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'")))
  ) {
    return { kind: 'string', value: text.slice(1, -1) };
  }
  if (text === 'true' || text === 'false') return { kind: 'bool', value: text === 'true' };
  if (text === 'null') return { kind: 'null' };
  const number = rustF64(text);
  if (number !== undefined && Number.isFinite(number)) return { kind: 'float', value: number };
  return { kind: 'string', value: text };
}

function comparison(
  field: (item: JsonValue) => JsonValue | undefined,
  op: '==' | '!=' | '>=' | '<=' | '>' | '<' | '=',
  literal: Literal,
): Predicate {
  const equal = (actual: JsonValue | undefined): boolean => {
    if (literal.kind === 'null') return actual === undefined || actual === null;
    if (literal.kind === 'string') return actual === literal.value;
    if (literal.kind === 'bool') return actual === literal.value;
    // A float literal equals only a float in the data, never the integer of the same value.
    return isLosslessNumber(actual) && isFloat(actual) && Number(actual.value) === literal.value;
  };
  const order = (actual: JsonValue | undefined, holds: (sign: number) => boolean): boolean => {
    if (isLosslessNumber(actual) && literal.kind === 'float') {
      const a = Number(actual.value);
      return holds(a < literal.value ? -1 : a > literal.value ? 1 : 0);
    }
    if (typeof actual === 'string' && literal.kind === 'string') {
      return holds(compareBytes(actual, literal.value));
    }
    return false;
  };
  switch (op) {
    case '==':
    case '=':
      return (item) => equal(field(item));
    case '!=':
      return (item) => !equal(field(item));
    case '>':
      return (item) => order(field(item), (s) => s > 0);
    case '<':
      return (item) => order(field(item), (s) => s < 0);
    case '>=':
      return (item) => order(field(item), (s) => s >= 0);
    case '<=':
      return (item) => order(field(item), (s) => s <= 0);
  }
}

function filterFunction(name: string, args: readonly string[]): Predicate {
  const field = (index: number) => fieldPath(args[index] ?? '');
  const unary = (test: (value: JsonValue) => boolean): Predicate => {
    if (args.length !== 1) return () => false;
    const get = field(0);
    return (item) => {
      const value = get(item);
      return value !== undefined && test(value);
    };
  };
  const onString = (test: (text: string, arg: string) => boolean): Predicate => {
    if (args.length !== 2) return () => false;
    const get = field(0);
    const arg = args[1]!;
    return (item) => {
      const value = get(item);
      return typeof value === 'string' && test(value, arg);
    };
  };
  switch (name) {
    // The second argument keeps its quotes, as in Prodigy: contains(s, 'x') looks for 'x'.
    case 'contains':
      return onString((text, arg) => text.includes(arg));
    case 'starts_with':
      return onString((text, arg) => text.startsWith(arg));
    case 'ends_with':
      return onString((text, arg) => text.endsWith(arg));
    case 'is_null':
      return unary((value) => value === null);
    case 'is_not_null':
      return unary((value) => value !== null);
    case 'is_number':
      return unary((value) => isLosslessNumber(value));
    case 'is_string':
      return unary((value) => typeof value === 'string');
    case 'is_bool':
      return unary((value) => typeof value === 'boolean');
    case 'is_array':
      return unary((value) => Array.isArray(value));
    case 'is_object':
      return unary((value) => isObject(value));
    case 'length': {
      if (args.length !== 2) return () => false;
      const get = field(0);
      const expected = rustF64(args[1]!);
      return (item) => {
        const value = get(item);
        const length =
          typeof value === 'string'
            ? Buffer.byteLength(value, 'utf8')
            : Array.isArray(value)
              ? value.length
              : isObject(value)
                ? Object.keys(value).length
                : undefined;
        return (
          length !== undefined &&
          expected !== undefined &&
          Math.abs(length - expected) < Number.EPSILON
        );
      };
    }
    case 'matches': {
      if (args.length !== 2) return () => false;
      let pattern: RegExp | undefined;
      try {
        pattern = new RegExp(trimChars(trimChars(args[1]!, '"'), "'"), 'u');
      } catch {
        pattern = undefined;
      }
      const get = field(0);
      return (item) => {
        const value = get(item);
        return typeof value === 'string' && pattern !== undefined && pattern.test(value);
      };
    }
    default:
      // Prodigy warns and lets no item through.
      return () => false;
  }
}

/** `a.b[0].c` as Prodigy's filter reads it; a malformed `[x]` is skipped. */
function fieldPath(path: string): (item: JsonValue) => JsonValue | undefined {
  const parts: (string | number)[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === '.') i++;
    if (path[i] === '[') {
      const end = path.indexOf(']', i + 1);
      const text = end < 0 ? path.slice(i + 1) : path.slice(i + 1, end);
      i = end < 0 ? path.length : end + 1;
      if (/^\+?\d+$/.test(text)) parts.push(Number(text));
      continue;
    }
    let field = '';
    while (i < path.length && path[i] !== '.' && path[i] !== '[') field += path[i++];
    if (field !== '') parts.push(field);
  }
  return (item) => {
    let current: JsonValue | undefined = item;
    for (const part of parts) {
      if (typeof part === 'number') {
        current = Array.isArray(current) && part < current.length ? current[part] : undefined;
      } else {
        current = isObject(current) && Object.hasOwn(current, part) ? current[part] : undefined;
      }
      if (current === undefined) return undefined;
    }
    return current;
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

function isObject(value: JsonValue | undefined): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value)
  );
}

/**
 * serde_json reads a number written without `.`, `e` or `E` as an integer when it fits 64 bits,
 * and as a float otherwise; Prodigy's comparisons tell the two apart.
 */
export function isFloat(number: LosslessNumber): boolean {
  const text = number.value;
  if (/[.eE]/.test(text)) return true;
  const big = BigInt(text);
  return big > 18446744073709551615n || big < -9223372036854775808n;
}

/** Rust's `str::parse::<f64>` for finite numbers; undefined where Rust would fail. */
function rustF64(text: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return Number.NaN;
  return undefined;
}

/** Rust compares strings byte by byte (UTF-8), which is code point order. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function byCodePoint(a: string, b: string): number {
  return compareBytes(a, b);
}

function trimChars(text: string, ch: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === ch) start++;
  while (end > start && text[end - 1] === ch) end--;
  return text.slice(start, end);
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
