/**
 * The `map.filter` expression language the way Prodigy 0.4.4 reads it (as read from its source):
 * the text split at its first top-level `||` or `OR`, then `&&` or `AND`, down to `in` lists,
 * function calls and comparisons, compiled into one predicate over an item. Prodigy's rules,
 * quirks included: a leading `!` negates the whole rest, and a number literal is a float, which
 * never equals the integer of the same value. Pure.
 */
import { isLosslessNumber } from 'lossless-json';
import {
  compareBytes,
  isFloat,
  isObject,
  type JsonValue,
  PipelineError,
  rustF64,
  trimChars,
} from './values.js';

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
  const joined = parseJoined(expr);
  if (joined) return joined;
  // 5. `field in [a, b]`: the values are always strings.
  const inAt = expr.indexOf(' in ');
  if (inAt >= 0) return parseIn(expr, inAt);
  // 6. A function call: the name before the first `(`, arguments up to the last `)`.
  if (expr.includes('(') && expr.includes(')')) return parseCall(expr);
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

/** The first top-level `||` or OR, else `&&` or AND, with both sides parsed; else undefined. */
function parseJoined(expr: string): Predicate | undefined {
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
  return undefined;
}

/** `field in [a, b]`, with ` in ` at `inAt`. */
function parseIn(expr: string, inAt: number): Predicate {
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

/** `name(arg, ...)`: the arguments split at every comma, as Prodigy does. */
function parseCall(expr: string): Predicate {
  const open = expr.indexOf('(');
  const close = expr.lastIndexOf(')');
  if (close <= open) throw invalid(expr);
  const name = expr.slice(0, open).trim();
  const inside = expr.slice(open + 1, close);
  const args = inside === '' ? [] : inside.split(',').map((arg) => arg.trim());
  return filterFunction(name, args);
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
    case 'length':
      return lengthIs(args);
    case 'matches':
      return matchesPattern(args);
    default:
      // Prodigy warns and lets no item through.
      return () => false;
  }
}

/** `length(field, n)`: a string's length in UTF-8 bytes, an array's or object's in entries. */
function lengthIs(args: readonly string[]): Predicate {
  if (args.length !== 2) return () => false;
  const get = fieldPath(args[0]!);
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
      length !== undefined && expected !== undefined && Math.abs(length - expected) < Number.EPSILON
    );
  };
}

/** `matches(field, pattern)`: the pattern without its quotes, as a Unicode regular expression. */
function matchesPattern(args: readonly string[]): Predicate {
  if (args.length !== 2) return () => false;
  let pattern: RegExp | undefined;
  try {
    pattern = new RegExp(trimChars(trimChars(args[1]!, '"'), "'"), 'u');
  } catch {
    pattern = undefined;
  }
  const get = fieldPath(args[0]!);
  return (item) => {
    const value = get(item);
    return typeof value === 'string' && pattern !== undefined && pattern.test(value);
  };
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
