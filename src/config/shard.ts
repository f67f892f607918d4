/**
 * The `shard` input: one entry of the matrix the plan sub-action made, carrying what a shard job
 * needs to run its items. Read here, like every input, and checked field by field.
 */
import { InputError } from './errors.js';
import { Inputs } from './names.js';

export interface ShardEntry {
  /** "shard 2 of 8", for job names (`name: ${{ matrix.name }}`). */
  readonly name: string;
  /** 0-based index of the shard. */
  readonly shard: number;
  readonly shards: number;
  /** Items in the whole plan. */
  readonly total: number;
  /** Position of the shard's first item in the whole list, and how many it runs. */
  readonly first: number;
  readonly size: number;
  /** The plan's id, shared by all its shards and their results. */
  readonly plan: string;
  readonly workflow: string;
  /** The commit the plan started from. */
  readonly base: string;
  /** The shard's items as JSON text, when they travel inline. */
  readonly items?: string;
  /** The plan's artifact in this workflow run, when one was uploaded. */
  readonly artifact?: string;
  /** The plan's folder on the machine that planned (the same machine outside GitHub). */
  readonly dir: string;
  /** The plan holds setup's commits (setup.bundle) for the shard to start from. */
  readonly setup: boolean;
  /** Variables setup captured. */
  readonly env?: Readonly<Record<string, string>>;
}

const ACCEPTED =
  'one entry of the matrix made by the plan sub-action, passed as `shard: ${{ toJSON(matrix) }}`';

/** Reads the `shard` input; every problem names the input and what was wrong. */
export function parseShardEntry(raw: string): ShardEntry {
  const shown = raw.length > 200 ? `${raw.slice(0, 200)}...` : raw;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new InputError(
      Inputs.shard,
      shown,
      `${ACCEPTED} (not JSON: ${(error as Error).message})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(Inputs.shard, shown, ACCEPTED);
  }
  const entry = value as Record<string, unknown>;
  const problems = entryProblems(entry);
  if (problems.length > 0) {
    throw new InputError(
      Inputs.shard,
      shown,
      `${ACCEPTED}; missing or wrong: ${problems.join(', ')}`,
    );
  }
  return entry as unknown as ShardEntry;
}

/** What is missing or wrong in an entry, field by field; none means it can be used. */
function entryProblems(entry: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const int = (key: string, min: number) => {
    const v = entry[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      problems.push(`${key} (a whole number)`);
  };
  const str = (key: string, optional = false) => {
    const v = entry[key];
    if (optional && v === undefined) return;
    if (typeof v !== 'string' || (!optional && v === '')) problems.push(`${key} (text)`);
  };
  int('shard', 0);
  int('shards', 1);
  int('total', 0);
  int('first', 0);
  int('size', 0);
  str('plan');
  str('workflow');
  str('base');
  str('dir');
  str('items', true);
  str('artifact', true);
  if (typeof entry.setup !== 'boolean') problems.push('setup (true or false)');
  if (entry.env !== undefined) {
    const env = entry.env;
    if (
      typeof env !== 'object' ||
      env === null ||
      Object.values(env).some((v) => typeof v !== 'string')
    ) {
      problems.push('env (names to text)');
    }
  }
  if (problems.length === 0 && (entry.shard as number) >= (entry.shards as number)) {
    problems.push('shard (below shards)');
  }
  return problems;
}
