/**
 * What Claude used and cost, from Claude Code's own session logs: the run gives Claude a folder of
 * its own (CLAUDE_CONFIG_DIR, inside Prodigy's records), whose `projects/<folder>/<session>.jsonl`
 * files come back to the runner with the rest. Seen with Claude Code 2.1.332:
 *
 * - every answer of the API is an `assistant` entry with `message.id`, `message.model` and
 *   `message.usage` (input, output, cache read and cache write tokens); one answer may be written
 *   more than once (a line per content block), so answers are counted by their id;
 * - when Claude ends, a `cost-state` entry holds what the session cost (`totalCostUSD`, and per
 *   model `modelUsage.<model>.costUSD`), priced by Claude itself;
 * - every entry names its `sessionId`, and the conversation's entries their `cwd`: a MapReduce
 *   agent works in Prodigy's worktree `mapreduce-agent-<job>_agent_<n>`, which is item `item_<n>`.
 *
 * Prodigy's own `ClaudeTokenUsage` events are not read: 0.4.4 writes them only for stream lines
 * of the form `{"event":"token_usage"}`, which Claude Code never prints.
 *
 * The files are the workload's: read without following links, each one bounded, lines that are
 * not what is described skipped. The figures are what Claude in the container recorded; a
 * workload that rewrites them misreports only itself (SECURITY.md).
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readUntrustedText } from './untrusted.js';

export interface TokenCounts {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** What some of Claude's sessions used. */
export interface ClaudeFigures {
  readonly sessions: number;
  /** Answers of the API (Claude's turns). */
  readonly turns: number;
  readonly tokens: TokenCounts;
  /** What Claude priced them at, in US dollars; sessions it did not price add nothing. */
  readonly costUsd: number;
  /** Sessions that used tokens but ended before Claude wrote what they cost (stopped). */
  readonly unpricedSessions: number;
}

export interface ClaudeUsage extends ClaudeFigures {
  /** Per model, as the API named it. */
  readonly models: Readonly<Record<string, ClaudeFigures>>;
  /** Per MapReduce item (`item_<n>`, as numbered in this run's own item list). */
  readonly items: Readonly<Record<string, ClaudeFigures>>;
}

/** One session log may hold a long conversation; beyond this it is left out, and said so. */
const SESSION_LOG_LIMIT = 256 * 1024 * 1024;
const MAX_DEPTH = 6;

interface Session {
  cwd?: string;
  /** Answer id → its model and usage (the last line written for it). */
  readonly answers: Map<string, { model: string; tokens: TokenCounts }>;
  cost?: { total: number; models: Map<string, number> };
}

export interface ClaudeRecords {
  readonly usage?: ClaudeUsage;
  /** Session logs found, as paths relative to the Claude folder (for the artifact). */
  readonly transcripts: readonly string[];
  /** What could not be read, for a warning. */
  readonly skipped: readonly string[];
}

/** Reads every session log under `<claudeDir>/projects`; no usage when none holds an answer. */
export async function readClaudeRecords(claudeDir: string): Promise<ClaudeRecords> {
  const transcripts: string[] = [];
  const skipped: string[] = [];
  const sessions = new Map<string, Session>();
  const walk = async (relative: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(claudeDir, relative), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        skipped.push(`${relative}: ${(error as Error).message}`);
      }
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) await walk(child, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.jsonl')) {
        try {
          const text = await readUntrustedText(path.join(claudeDir, child), {
            what: "Claude's session log",
            maxBytes: SESSION_LOG_LIMIT,
          });
          transcripts.push(child);
          for (const line of text.split('\n')) takeLine(line, sessions);
        } catch (error) {
          skipped.push(`${child}: ${(error as Error).message}`);
        }
      }
    }
  };
  // The folders below are known to be folders from their listing; these two are checked here,
  // so a link the workload left in their place is never followed to the runner's files.
  for (const folder of [claudeDir, path.join(claudeDir, 'projects')]) {
    const stats = await lstat(folder).catch(() => undefined);
    if (!stats) return { transcripts, skipped };
    if (!stats.isDirectory()) {
      skipped.push(`${folder}: not a folder`);
      return { transcripts, skipped };
    }
  }
  await walk('projects', 0);
  const usage = summarize(sessions);
  return { ...(usage ? { usage } : {}), transcripts, skipped };
}

const ZERO: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/** A run in which Claude never answered. */
export const NO_CLAUDE: ClaudeUsage = {
  sessions: 0,
  turns: 0,
  tokens: ZERO,
  costUsd: 0,
  unpricedSessions: 0,
  models: {},
  items: {},
};

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function dollars(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function takeLine(line: string, sessions: Map<string, Session>): void {
  if (line.trim() === '') return;
  let entry: Record<string, unknown> | undefined;
  try {
    entry = record(JSON.parse(line));
  } catch {
    return;
  }
  const id = entry?.sessionId;
  if (!entry || typeof id !== 'string' || id === '') return;
  let session = sessions.get(id);
  if (!session) sessions.set(id, (session = { answers: new Map() }));
  if (typeof entry.cwd === 'string' && session.cwd === undefined) session.cwd = entry.cwd;
  if (entry.type === 'assistant') {
    const message = record(entry.message);
    const usage = record(message?.usage);
    if (!message || !usage || typeof message.id !== 'string') return;
    session.answers.set(message.id, {
      model: typeof message.model === 'string' && message.model !== '' ? message.model : 'unknown',
      tokens: {
        input: count(usage.input_tokens),
        output: count(usage.output_tokens),
        cacheRead: count(usage.cache_read_input_tokens),
        cacheWrite: count(usage.cache_creation_input_tokens),
      },
    });
  } else if (entry.type === 'cost-state') {
    const total = dollars(entry.totalCostUSD);
    if (total === undefined) return;
    const models = new Map<string, number>();
    for (const [model, figures] of Object.entries(record(entry.modelUsage) ?? {})) {
      const cost = dollars(record(figures)?.costUSD);
      if (cost !== undefined) models.set(model, cost);
    }
    // Claude writes what the session cost so far: the last one is the whole.
    session.cost = { total, models };
  }
}

class Tally {
  sessions = 0;
  turns = 0;
  tokens = { ...ZERO };
  costUsd = 0;
  unpricedSessions = 0;

  addTokens(tokens: TokenCounts): void {
    this.turns += 1;
    this.tokens.input += tokens.input;
    this.tokens.output += tokens.output;
    this.tokens.cacheRead += tokens.cacheRead;
    this.tokens.cacheWrite += tokens.cacheWrite;
  }

  figures(): ClaudeFigures {
    return {
      sessions: this.sessions,
      turns: this.turns,
      tokens: { ...this.tokens },
      costUsd: roundCost(this.costUsd),
      unpricedSessions: this.unpricedSessions,
    };
  }
}

/** A MapReduce agent's worktree (Prodigy 0.4.4) → the item it works on. */
export function itemOfWorktree(cwd: string | undefined): string | undefined {
  const match = /^mapreduce-agent-.+_agent_(\d+)$/.exec(path.posix.basename(cwd ?? ''));
  return match ? `item_${Number(match[1])}` : undefined;
}

function summarize(sessions: Map<string, Session>): ClaudeUsage | undefined {
  const all = new Tally();
  const models = new Map<string, Tally>();
  const items = new Map<string, Tally>();
  const tally = (map: Map<string, Tally>, key: string) => {
    let t = map.get(key);
    if (!t) map.set(key, (t = new Tally()));
    return t;
  };
  for (const session of sessions.values()) {
    if (session.answers.size === 0) continue;
    const item = itemOfWorktree(session.cwd);
    const places = [all, ...(item ? [tally(items, item)] : [])];
    const seenModels = new Set<string>();
    for (const { model, tokens } of session.answers.values()) {
      for (const t of places) t.addTokens(tokens);
      tally(models, model).addTokens(tokens);
      seenModels.add(model);
    }
    for (const t of places) {
      t.sessions += 1;
      if (session.cost) t.costUsd += session.cost.total;
      else t.unpricedSessions += 1;
    }
    for (const model of seenModels) {
      const t = tally(models, model);
      t.sessions += 1;
      const cost = session.cost?.models.get(model);
      if (cost !== undefined) t.costUsd += cost;
      else t.unpricedSessions += 1;
    }
  }
  if (all.sessions === 0) return undefined;
  const sorted = (map: Map<string, Tally>) =>
    Object.fromEntries(
      [...map.entries()]
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([key, t]) => [key, t.figures()]),
    );
  return { ...all.figures(), models: sorted(models), items: sorted(items) };
}

/** Dollars to a millionth, so sums of Claude's figures do not show binary fractions. */
export function roundCost(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** Figures added up (the shards of a run). */
export function addFigures(parts: readonly ClaudeFigures[]): ClaudeFigures {
  return {
    sessions: parts.reduce((n, p) => n + p.sessions, 0),
    turns: parts.reduce((n, p) => n + p.turns, 0),
    tokens: {
      input: parts.reduce((n, p) => n + p.tokens.input, 0),
      output: parts.reduce((n, p) => n + p.tokens.output, 0),
      cacheRead: parts.reduce((n, p) => n + p.tokens.cacheRead, 0),
      cacheWrite: parts.reduce((n, p) => n + p.tokens.cacheWrite, 0),
    },
    costUsd: roundCost(parts.reduce((n, p) => n + p.costUsd, 0)),
    unpricedSessions: parts.reduce((n, p) => n + p.unpricedSessions, 0),
  };
}

/** The usage of several runs as one (a MapReduce run's shards and its reduce). */
export function combineUsage(parts: readonly (ClaudeUsage | undefined)[]): ClaudeUsage | undefined {
  const given = parts.filter((p): p is ClaudeUsage => p !== undefined).map(sane);
  if (given.length === 0) return undefined;
  const merge = (maps: readonly Readonly<Record<string, ClaudeFigures>>[]) => {
    const keyed = new Map<string, ClaudeFigures[]>();
    for (const map of maps) {
      for (const [key, figures] of Object.entries(map)) {
        keyed.set(key, [...(keyed.get(key) ?? []), figures]);
      }
    }
    return Object.fromEntries(
      [...keyed.entries()]
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([key, figures]) => [key, addFigures(figures)]),
    );
  };
  return {
    ...addFigures(given),
    models: merge(given.map((g) => g.models)),
    items: merge(given.map((g) => g.items)),
  };
}

/** Item keys renamed (a shard's `item_<n>` → its place in the whole list). */
export function renameItems(usage: ClaudeUsage, rename: (item: string) => string): ClaudeUsage {
  return {
    ...usage,
    items: Object.fromEntries(Object.entries(usage.items).map(([k, f]) => [rename(k), f])),
  };
}

/** Usage as read back from a shard's results file: numbers that are numbers, or zero. */
function sane(usage: ClaudeUsage): ClaudeUsage {
  const figures = (f: Partial<ClaudeFigures> | undefined): ClaudeFigures => ({
    sessions: count(f?.sessions),
    turns: count(f?.turns),
    tokens: {
      input: count(f?.tokens?.input),
      output: count(f?.tokens?.output),
      cacheRead: count(f?.tokens?.cacheRead),
      cacheWrite: count(f?.tokens?.cacheWrite),
    },
    costUsd: dollars(f?.costUsd) ?? 0,
    unpricedSessions: count(f?.unpricedSessions),
  });
  const each = (map: unknown) =>
    Object.fromEntries(
      Object.entries(record(map) ?? {}).map(([k, f]) => [k, figures(f as Partial<ClaudeFigures>)]),
    );
  return { ...figures(usage), models: each(usage.models), items: each(usage.items) };
}
