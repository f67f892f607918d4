/**
 * What the item pipeline (items.ts) and its filter language (filter.ts) share: the JSON values
 * items are, read and written with every number as written (lossless-json); the PipelineError
 * that names the workflow key at fault; and Rust's readings of numbers and strings, which
 * Prodigy's answers follow (Prodigy 0.4.4, as read from its source). Pure.
 */
import { isLosslessNumber, type LosslessNumber, parse, stringify } from 'lossless-json';

export type JsonValue =
  null | boolean | string | LosslessNumber | JsonValue[] | { [key: string]: JsonValue };

export type JsonObject = { [key: string]: JsonValue };

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

/** Parses JSON keeping every number as written. Throws on invalid JSON. */
export function parseJson(text: string): JsonValue {
  return parse(text) as JsonValue;
}

/** Serializes, writing numbers back exactly as they were read. */
export function stringifyJson(value: JsonValue, indent?: number): string {
  return stringify(value, undefined, indent) ?? 'null';
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
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
export function rustF64(text: string): number | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return Number.NaN;
  return undefined;
}

/** Rust compares strings byte by byte (UTF-8), which is code point order. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function trimChars(text: string, ch: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === ch) start++;
  while (end > start && text[end - 1] === ch) end--;
  return text.slice(start, end);
}
