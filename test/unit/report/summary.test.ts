/**
 * The summary of very large runs, rendered as GitHub would (GFM, then Chromium with Mermaid):
 * it stays under 1 MiB, says what it left out, and still reads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RunOutcome } from '../../../src/engine/outcome.js';
import {
  type ItemFacts,
  mapReduceSummary,
  type MapReduceFacts,
  type ShardFacts,
} from '../../../src/report/summary.js';
import { SUMMARY_LIMIT_BYTES } from '../../../src/report/summary-blocks.js';
import { closeRenderer, renderSummary } from '../../support/render.js';

afterAll(closeRenderer);

const outcome: RunOutcome = {
  status: 'failed',
  reason: '2000 of 20000 item(s) failed',
  runtime: 'kubernetes',
  image: 'ghcr.io/prodigy/cook-agent:0.1.0',
  logPath: '/tmp/log',
  startedAt: 1_000_000,
  endedAt: 1_000_000 + 3_600_000,
  durationSeconds: 3600,
};

function facts(items: number, shards: number, errorText: string): MapReduceFacts {
  const per = Math.ceil(items / shards);
  const shardList: ShardFacts[] = Array.from({ length: shards }, (_, shard) => ({
    shard,
    shards,
    status: shard % 10 === 3 ? 'failed' : 'succeeded',
    size: per,
    first: shard * per,
    startedAt: 1_000_000 + shard * 1000,
    durationSeconds: 600 + shard,
    metrics: { cpu_seconds: 120.5, memory_peak_bytes: 512 * 1024 * 1024 },
    ...(shard % 10 === 3
      ? { reason: '1 item failed', logTail: ['<b>boom</b>', 'x'.repeat(5000)] }
      : {}),
  }));
  const itemList: ItemFacts[] = Array.from({ length: items }, (_, i) => ({
    id: `item_${i}`,
    shard: Math.floor(i / per),
    status: i % 10 === 0 ? 'failed' : 'success',
    durationSeconds: 1.5,
    ...(i % 10 === 0 ? { error: `${errorText} #${i}` } : {}),
  }));
  return {
    title: 'cook-action: debt.yml',
    outcome,
    workflow: 'debt.yml',
    shards: shardList,
    items: itemList,
    conflicts: [],
    artifact: { name: 'cook-map-a1', url: 'https://github.com/o/r/actions/runs/1/artifacts/9' },
  };
}

describe('the summary of a large MapReduce run', () => {
  it('stays under 1 MiB, says it was cut, and still shows the head, the gantt and 50 items', async () => {
    const parts = mapReduceSummary(facts(20_000, 64, 'E'.repeat(280)));
    expect(parts.cut).toBe(true);
    expect(Buffer.byteLength(parts.markdown)).toBeLessThan(SUMMARY_LIMIT_BYTES);
    expect(Buffer.byteLength(parts.full)).toBeGreaterThan(1.4 * 1024 * 1024);
    expect(parts.full).toContain('| item_19999 |');

    const page = await renderSummary(parts.markdown);
    expect(page.text).toContain('❌ cook-action: debt.yml');
    expect(page.text).toContain("This summary was cut to stay under GitHub's 1 MiB limit");
    expect(page.text).toContain('It holds this summary in full (cook/summary.md)');
    expect(page.diagrams).toHaveLength(1);
    expect(page.diagrams[0]!.text).toContain('shard 64/64');
    const items = page.tables.filter((t) => t[0]![0] === 'Item');
    expect(items[0]).toHaveLength(51);
    expect(items[0]![1]![2]).toBe('❌ failed');
    expect(page.details).toHaveLength(1);
    expect(page.details[0]!.summary).toMatch(
      /^19950 more item\(s\) \(\d+ shown here; the artifact has them all\)$/,
    );
    // A failing shard's log: escaped, each line cut.
    expect(page.text).toContain('<b>boom</b>');
    expect(page.text).not.toContain('x'.repeat(500));
  });

  it('keeps everything when it fits, folded past 50 items', async () => {
    const parts = mapReduceSummary(facts(120, 3, 'Agent failed: <script>alert(1)</script>'));
    expect(parts.cut).toBe(false);
    expect(parts.markdown).toBe(parts.full);
    const page = await renderSummary(parts.markdown);
    expect(page.details[0]!.summary).toBe('70 more item(s)');
    expect(page.details[0]!.open).toBe(false);
    expect(page.details[0]!.text).toContain('item_119');
    expect(page.text).not.toContain('item_119');
    // The item's number reads as it was; the word joiner after '#' (no issue link) is invisible.
    expect(page.text.replaceAll('\u2060', '')).toContain(
      'Agent failed: <script>alert(1)</script> #0',
    );
    expect(page.tables.find((t) => t[0]![0] === 'Shard')!.map((r) => r[0])).toEqual([
      'Shard',
      '1/3',
      '2/3',
      '3/3',
    ]);
  });
});
