/**
 * Work items → shards: contiguous runs of Prodigy's own item order, balanced (sizes differ by at
 * most one, larger ones first), and the same for the same items every time. Pure.
 */

/** GitHub Actions runs at most 256 jobs from one matrix. */
export const MAX_SHARDS = 256;

export interface ShardLayout {
  /** 0-based shard index. */
  readonly index: number;
  /** Position of the shard's first item in the whole item list (Prodigy's item_<first>). */
  readonly first: number;
  /** How many items the shard runs. */
  readonly size: number;
}

export type ShardRequest = { readonly shards: number } | { readonly itemsPerShard: number };

/**
 * Splits `itemCount` items. Never more shards than items (an empty shard would only cost a job),
 * but one empty shard when there are no items, so a matrix is never empty and reduce still runs
 * with zero items, as Prodigy's own reduce would.
 */
export function layoutShards(itemCount: number, request: ShardRequest): ShardLayout[] {
  const wanted =
    'shards' in request ? request.shards : Math.ceil(itemCount / request.itemsPerShard);
  const count = Math.max(1, Math.min(wanted, itemCount));
  const base = Math.floor(itemCount / count);
  const extra = itemCount % count;
  const layout: ShardLayout[] = [];
  let first = 0;
  for (let index = 0; index < count; index++) {
    const size = base + (index < extra ? 1 : 0);
    layout.push({ index, first, size });
    first += size;
  }
  return layout;
}

/** Prodigy's positional id of the item at `position` in the whole list. */
export function itemId(position: number): string {
  return `item_${position}`;
}

/** "shard 2 of 8" (1-based, for people). */
export function shardLabel(index: number, count: number): string {
  return `shard ${index + 1} of ${count}`;
}
