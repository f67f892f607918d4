/** The plan and reduce sub-actions' own inputs. */
import { InputError } from './errors.js';
import { Inputs } from './names.js';
import { parseLines } from './parse.js';
import type { InputSource } from './settings.js';
import { MAX_SHARDS, type ShardRequest } from '../workflow/shards.js';

/** `shards` or `items-per-shard`: exactly one. */
export function readShardRequest(input: InputSource): ShardRequest {
  const shards = input(Inputs.shards).trim();
  const perShard = input(Inputs.itemsPerShard).trim();
  if (shards !== '' && perShard !== '') {
    throw new InputError(
      Inputs.itemsPerShard,
      perShard,
      `nothing when '${Inputs.shards}' is given: say how many shards, or how many items each`,
    );
  }
  if (shards === '' && perShard === '') {
    throw new InputError(
      Inputs.shards,
      '',
      `a number of shards from 1 to ${MAX_SHARDS}, or '${Inputs.itemsPerShard}' instead`,
    );
  }
  if (shards !== '') {
    const count = Number(shards);
    if (!/^\d+$/.test(shards) || count < 1 || count > MAX_SHARDS) {
      throw new InputError(Inputs.shards, shards, `a whole number from 1 to ${MAX_SHARDS}`);
    }
    return { shards: count };
  }
  const count = Number(perShard);
  if (!/^\d+$/.test(perShard) || count < 1) {
    throw new InputError(Inputs.itemsPerShard, perShard, 'a whole number of items, 1 or more');
  }
  return { itemsPerShard: count };
}

/** The reduce sub-action's `results`: result files (or folders of them), one per line. */
export function readResultFiles(input: InputSource): readonly string[] {
  return parseLines(input(Inputs.results));
}
