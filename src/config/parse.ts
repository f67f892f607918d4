/**
 * Pure parsers for input values. Each throws an InputError naming the input, the value and what
 * is accepted; none reads the environment.
 */
import { parse as shellParse } from 'shell-quote';
import { InputError } from './errors.js';

/** A CPU amount in thousandths of a CPU, as Kubernetes counts them. */
export interface CpuQuantity {
  readonly millicores: number;
  readonly text: string;
}

export function parseCpu(input: string, raw: string): CpuQuantity | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const accepted = 'a positive number of CPUs such as 2, 0.5 or 500m';
  const match = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.exec(text);
  if (!match) throw new InputError(input, raw, accepted);
  const amount = Number(match[1]);
  const millicores = match[2] === 'm' ? amount : amount * 1000;
  if (!Number.isFinite(millicores) || millicores < 1 || !Number.isInteger(round(millicores))) {
    throw new InputError(input, raw, `${accepted} (at least 1m)`);
  }
  return { millicores: round(millicores), text };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A memory amount in bytes. */
export interface MemoryQuantity {
  readonly bytes: number;
  readonly text: string;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  ki: 1024,
  kib: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1024 ** 4,
};

/** Docker refuses memory limits below 6 MiB; saying so here beats a daemon error mid-run. */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2;

/**
 * Memory as Kubernetes (`512Mi`, `4Gi`) or Docker (`512m`, `1g`) writes it. Units are binary in
 * both spellings, as `docker run -m` reads them, so one value means the same on every runtime.
 */
export function parseMemory(input: string, raw: string): MemoryQuantity | undefined {
  return parseBytes(
    input,
    raw,
    'an amount of memory such as 512Mi, 4Gi, 512m or 1g (at least 6Mi)',
    MIN_MEMORY_BYTES,
  );
}

/** A size in the same units as memory: how much may travel (`transfer-limit`). */
export function parseSize(input: string, raw: string): MemoryQuantity | undefined {
  return parseBytes(input, raw, 'a size such as 512Mi, 4Gi or 1g (at least 1Mi)', 1024 ** 2);
}

function parseBytes(
  input: string,
  raw: string,
  accepted: string,
  minimum: number,
): MemoryQuantity | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
  const unit = match ? MEMORY_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new InputError(input, raw, accepted);
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < minimum) throw new InputError(input, raw, accepted);
  return { bytes, text };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `90s`, `30m`, `2h` or `1h30m`; a bare number is seconds. */
export function parseDuration(input: string, raw: string): number | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const accepted = 'a duration such as 90s, 30m, 2h or 1h30m (a bare number is seconds)';
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    if (ms <= 0) throw new InputError(input, raw, accepted);
    return ms;
  }
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed !== text.length || total <= 0) throw new InputError(input, raw, accepted);
  return Math.round(total);
}

export type GpuRequest = number | 'all';

export function parseGpus(input: string, raw: string): GpuRequest | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  if (text === 'all') return 'all';
  if (/^\d+$/.test(text) && Number(text) > 0) return Number(text);
  throw new InputError(input, raw, "a positive whole number of GPUs, or 'all'");
}

export function parseChoice<const T extends string>(
  input: string,
  raw: string,
  choices: readonly T[],
  fallback: T,
): T {
  const text = raw.trim();
  if (text === '') return fallback;
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new InputError(input, raw, `one of ${choices.map((c) => `'${c}'`).join(', ')}`);
}

/** Booleans as the YAML 1.2 core schema spells them, like @actions/core's getBooleanInput. */
export function parseBoolean(input: string, raw: string, fallback: boolean): boolean {
  const text = raw.trim();
  if (text === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  throw new InputError(input, raw, "'true' or 'false'");
}

export function parseNonNegativeInteger(
  input: string,
  raw: string,
  fallback: number | undefined,
): number | undefined {
  const text = raw.trim();
  if (text === '') return fallback;
  if (/^\d+$/.test(text)) return Number(text);
  throw new InputError(input, raw, 'a whole number of 0 or more');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `KEY=VALUE` lines, with `KEY<<DELIMITER` … `DELIMITER` for multi-line values (the form
 * $GITHUB_ENV uses). Blank lines and lines starting with `#` are skipped. When `sensitive`, errors
 * name the line number and never echo the value.
 */
export function parseKeyValueLines(
  input: string,
  raw: string,
  sensitive: boolean,
): ReadonlyMap<string, string> {
  const result = new Map<string, string>();
  const lines = raw.split(/\r?\n/);
  const shown = (line: string) => (sensitive ? undefined : line);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const heredoc = /^\s*([^=<\s]+)<<(\S+)\s*$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc as unknown as [string, string, string];
      checkName(input, key, i, line, shown);
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        body.push(lines[i]!);
      }
      if (!closed) {
        throw new InputError(
          input,
          undefined,
          `the multi-line value of ${key} has no closing line '${delimiter}'`,
        );
      }
      result.set(key, body.join('\n'));
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw sensitive
        ? new InputError(input, undefined, `line ${i + 1} is not KEY=VALUE or KEY<<DELIMITER`)
        : new InputError(input, line, 'KEY=VALUE lines, or KEY<<DELIMITER for multi-line values');
    }
    const key = line.slice(0, eq).trim();
    checkName(input, key, i, line, shown);
    result.set(key, line.slice(eq + 1));
  }
  return result;
}

function checkName(
  input: string,
  key: string,
  index: number,
  line: string,
  shown: (line: string) => string | undefined,
): void {
  if (ENV_NAME.test(key)) return;
  const accepted = `a variable name of letters, digits and _ not starting with a digit (line ${index + 1}, name ${JSON.stringify(key)})`;
  throw new InputError(input, shown(line), accepted);
}

/** Arguments split as a POSIX shell would, without running one: quotes work, operators do not. */
export function parseArgs(input: string, raw: string): readonly string[] {
  if (raw.trim() === '') return [];
  // Variables stay literal: the arguments go to Prodigy as they are written.
  const entries = shellParse(raw, (name) => `\${${name}}`);
  const args: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') args.push(entry);
    else if ('op' in entry && entry.op === 'glob') args.push(entry.pattern);
    else if ('comment' in entry) break;
    else {
      throw new InputError(
        input,
        raw,
        `arguments only; shell operators such as '${entry.op}' are not run (quote them to pass them through)`,
      );
    }
  }
  return args;
}

/** Non-empty lines, trimmed. */
export function parseLines(raw: string): readonly string[] {
  return raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A byte count as people read it: `512 B`, `1.5 KiB`, `2.0 GiB` (the inverse of parseSize). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `{ key: value }`, or nothing when the value is empty: for a setting that may be left unset. */
export function optional<K extends string>(key: K, value: string): { [P in K]?: string } {
  return (value === '' ? {} : { [key]: value }) as { [P in K]?: string };
}
