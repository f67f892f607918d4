/**
 * The plan's `matrix` output and the `shard` input that carries one of its entries back: what a
 * shard job needs to run its items, and no more. Items travel inline while the whole matrix stays
 * under GitHub's limit, as JSON text (GitHub's fromJSON/toJSON would turn 5.0 into 5, which
 * Prodigy tells apart); past it, each shard reads them from the plan's artifact.
 */
import type { ShardEntry } from '../config/shard.js';
import { shardLabel } from '../workflow/shards.js';
import { stringifyJson, type JsonValue } from '../workflow/values.js';
import type { PlannedRun } from './plan.js';

/** GitHub refuses job outputs past 1 MiB and matrices past 256 KiB; the plan stays under both. */
export const MATRIX_INLINE_LIMIT = 256 * 1024;

export interface Matrix {
  readonly include: readonly ShardEntry[];
}

export function planMatrix(
  run: PlannedRun,
  artifact: string | undefined,
): { matrix: Matrix; text: string; inline: boolean } {
  const { plan } = run;
  const entries = (inline: boolean): ShardEntry[] =>
    plan.shards.map((layout) => ({
      name: shardLabel(layout.index, plan.shards.length),
      shard: layout.index,
      shards: plan.shards.length,
      total: plan.itemCount,
      first: layout.first,
      size: layout.size,
      plan: plan.id,
      workflow: plan.workflow,
      base: plan.base,
      ...(inline
        ? {
            items: stringifyJson(
              run.items.slice(layout.first, layout.first + layout.size) as JsonValue[],
            ),
          }
        : {}),
      ...(artifact ? { artifact } : {}),
      dir: run.dir,
      setup: plan.setupBundle,
      ...(Object.keys(plan.captures).length > 0 ? { env: plan.captures } : {}),
    }));
  let matrix: Matrix = { include: entries(true) };
  let text = JSON.stringify(matrix);
  let inline = true;
  if (Buffer.byteLength(text) > MATRIX_INLINE_LIMIT) {
    matrix = { include: entries(false) };
    text = JSON.stringify(matrix);
    inline = false;
  }
  return { matrix, text, inline };
}
