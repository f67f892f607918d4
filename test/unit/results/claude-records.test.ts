import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  combineUsage,
  itemOfWorktree,
  readClaudeRecords,
  renameItems,
} from '../../../src/results/claude-records.js';

const usage = (input: number, output: number, read = 0, write = 0) => ({
  input_tokens: input,
  output_tokens: output,
  cache_read_input_tokens: read,
  cache_creation_input_tokens: write,
});

function answer(session: string, cwd: string, id: string, model: string, u: object) {
  return JSON.stringify({
    type: 'assistant',
    sessionId: session,
    cwd,
    message: { id, model, usage: u, content: [] },
  });
}

function costState(session: string, total: number, models: Record<string, number>) {
  return JSON.stringify({
    type: 'cost-state',
    sessionId: session,
    totalCostUSD: total,
    modelUsage: Object.fromEntries(Object.entries(models).map(([m, c]) => [m, { costUSD: c }])),
  });
}

function claudeDir(files: Record<string, string[]>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'claude-records-'));
  for (const [file, lines] of Object.entries(files)) {
    const full = path.join(dir, 'projects', file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, `${lines.join('\n')}\n`);
  }
  return dir;
}

describe("Claude's session logs", () => {
  it('counts each answer once, takes the cost Claude wrote, and names the items of agents', async () => {
    const agent = '/tmp/cook-home/.prodigy/worktrees/workspace/mapreduce-agent-mapreduce-1_agent_3';
    const dir = claudeDir({
      '-workspace/s1.jsonl': [
        JSON.stringify({ type: 'user', sessionId: 's1', cwd: '/workspace' }),
        // One answer written twice (a line per content block): counted once, the last usage.
        answer('s1', '/workspace', 'msg_1', 'claude-x', usage(10, 1)),
        answer('s1', '/workspace', 'msg_1', 'claude-x', usage(10, 5, 100, 20)),
        answer('s1', '/workspace', 'msg_2', 'claude-x', usage(7, 3)),
        'not json',
        JSON.stringify({ type: 'assistant', sessionId: 's1', message: { id: 'no-usage' } }),
        costState('s1', 0.001, { 'claude-x': 0.0005 }),
        costState('s1', 0.25, { 'claude-x': 0.25 }),
      ],
      [`${agent.replaceAll('/', '-')}/s2.jsonl`]: [
        answer('s2', agent, 'msg_3', 'claude-y', usage(1, 2, 3, 4)),
        costState('s2', 0.5, { 'claude-y': 0.5 }),
      ],
      // Stopped before Claude wrote what it cost.
      '-workspace/s3.jsonl': [answer('s3', '/workspace', 'msg_4', 'claude-x', usage(2, 2))],
      // A session that never got an answer is no session.
      '-workspace/s4.jsonl': [JSON.stringify({ type: 'user', sessionId: 's4' })],
    });
    const { usage: used, transcripts, skipped } = await readClaudeRecords(dir);
    expect(skipped).toEqual([]);
    expect(transcripts).toHaveLength(4);
    expect(used).toMatchObject({
      sessions: 3,
      turns: 4,
      tokens: { input: 20, output: 12, cacheRead: 103, cacheWrite: 24 },
      costUsd: 0.75,
      unpricedSessions: 1,
    });
    expect(used!.models['claude-x']).toMatchObject({ sessions: 2, turns: 3, costUsd: 0.25 });
    expect(used!.models['claude-y']).toMatchObject({ sessions: 1, turns: 1, costUsd: 0.5 });
    expect(Object.keys(used!.items)).toEqual(['item_3']);
    expect(used!.items.item_3).toMatchObject({
      turns: 1,
      tokens: { input: 1, output: 2, cacheRead: 3, cacheWrite: 4 },
      costUsd: 0.5,
    });
  });

  it('follows no link the workload left for its folders or files', async () => {
    const outside = claudeDir({ 'x/s.jsonl': [answer('s', '/w', 'm', 'c', usage(1, 1))] });
    const linked = mkdtempSync(path.join(os.tmpdir(), 'claude-records-'));
    symlinkSync(path.join(outside, 'projects'), path.join(linked, 'projects'));
    const viaFolder = await readClaudeRecords(linked);
    expect(viaFolder.usage).toBeUndefined();
    expect(viaFolder.skipped.join()).toContain('not a folder');

    const dir = claudeDir({});
    mkdirSync(path.join(dir, 'projects', 'p'), { recursive: true });
    symlinkSync(
      path.join(outside, 'projects', 'x', 's.jsonl'),
      path.join(dir, 'projects', 'p', 'l.jsonl'),
    );
    symlinkSync(path.join(outside, 'projects', 'x'), path.join(dir, 'projects', 'q'));
    const viaLinks = await readClaudeRecords(dir);
    expect(viaLinks.usage).toBeUndefined();
    expect(viaLinks.transcripts).toEqual([]);
  });

  it('reads nothing when Claude never ran', async () => {
    const none = await readClaudeRecords(path.join(os.tmpdir(), 'no-such-claude-folder'));
    expect(none).toEqual({ transcripts: [], skipped: [] });
  });

  it("knows Prodigy's agent worktrees", () => {
    expect(
      itemOfWorktree('/h/.prodigy/worktrees/r/mapreduce-agent-mapreduce-20261202_214542_agent_12'),
    ).toBe('item_12');
    expect(itemOfWorktree('/h/.prodigy/worktrees/r/session-5acdab4a')).toBeUndefined();
    expect(itemOfWorktree(undefined)).toBeUndefined();
  });

  it('adds up shards, item names moved into the whole list, bad numbers as zero', async () => {
    const dir = claudeDir({
      'a/s.jsonl': [
        answer('s', '/x/mapreduce-agent-j_agent_0', 'm1', 'c', usage(5, 5)),
        costState('s', 0.1, { c: 0.1 }),
      ],
    });
    const shard = (await readClaudeRecords(dir)).usage!;
    const second = renameItems(shard, (id) => id.replace('item_0', 'item_7'));
    const broken = { ...shard, costUsd: -1, turns: Number.NaN } as typeof shard;
    const all = combineUsage([shard, undefined, second, broken])!;
    expect(all.turns).toBe(2);
    expect(all.costUsd).toBe(0.2);
    expect(all.tokens.input).toBe(15);
    expect(Object.keys(all.items)).toEqual(['item_0', 'item_7']);
    expect(all.items.item_0!.costUsd).toBe(0.2);
    expect(combineUsage([undefined])).toBeUndefined();
  });
});
