import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogSink, type LogSinkOptions, type StreamName } from '../../../src/logs/log-sink.js';
import { Masker } from '../../../src/logs/masker.js';
import { CommandGuard } from '../../../src/logs/stop-commands.js';

/** Every line written to the two writers, in order (a write may carry several). */
type Write = { to: StreamName; text: string };

let dir: string;
let writes: Write[];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'log-sink-'));
  writes = [];
  calls = { stdout: 0, stderr: 0 };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(options: Partial<LogSinkOptions> = {}): Promise<LogSink> {
  return LogSink.open({
    filePath: path.join(dir, 'nested', 'deeper', 'run.log'),
    stdout: { write: (text: string) => record('stdout', text) },
    stderr: { write: (text: string) => record('stderr', text) },
    masker: new Masker(),
    ...options,
  });
}

/** How many writes each writer was given. */
let calls: Record<StreamName, number>;

function record(to: StreamName, text: string): void {
  calls[to]++;
  for (const line of text.split(/(?<=\n)/)) writes.push({ to, text: line });
}

function fileOf(sink: LogSink): string {
  return readFileSync(sink.filePath, 'utf8');
}

describe('LogSink', () => {
  it('writes each relayed line, masked and prefixed, to the matching writer', async () => {
    const masker = new Masker();
    masker.add('hunter2');
    const sink = await open({ masker });
    sink.relay('stdout', 'password is hunter2', '[shard 2] ');
    sink.relay('stderr', 'warning: hunter2\r');
    sink.relay('stdout', '');
    await sink.close();

    expect(writes).toEqual([
      { to: 'stdout', text: '[shard 2] password is ***\n' },
      { to: 'stderr', text: 'warning: ***\r\n' },
      { to: 'stdout', text: '\n' },
    ]);
    expect(fileOf(sink)).toBe('[shard 2] password is ***\nwarning: ***\r\n\n');
    expect(sink.relayedLines).toBe(3);
    expect(sink.relayedBytes).toBe(Buffer.byteLength(fileOf(sink)));
  });

  it('creates the directories and replaces an old file', async () => {
    const filePath = path.join(dir, 'a', 'b', 'run.log');
    const first = await open({ filePath });
    first.relay('stdout', 'first run');
    await first.close();
    const second = await open({ filePath });
    second.relay('stdout', 'second');
    await second.close();
    expect(readFileSync(filePath, 'utf8')).toBe('second\n');
  });

  it('says which file it could not open', async () => {
    writeFileSync(path.join(dir, 'a-file'), '');
    await expect(open({ filePath: path.join(dir, 'a-file', 'run.log') })).rejects.toThrow(
      `opening the log file ${path.join(dir, 'a-file', 'run.log')}`,
    );
  });

  it('brackets relayed output with the guard, closing it for notes and reopening it after', async () => {
    const guard = new CommandGuard('tok123');
    const sink = await open({ guard });
    sink.relay('stdout', '::set-output name=x::pwned');
    sink.relay('stdout', 'two');
    sink.group('Copying results');
    sink.note('done\n');
    sink.relay('stdout', 'three');
    sink.endRelay();
    sink.endRelay();
    sink.relay('stdout', 'four');
    await sink.close();

    expect(writes.map((w) => w.text)).toEqual([
      '::stop-commands::tok123\n',
      '::set-output name=x::pwned\n',
      'two\n',
      '::tok123::\n',
      '::group::Copying results\n',
      'done\n',
      '::stop-commands::tok123\n',
      'three\n',
      '::tok123::\n',
      '::stop-commands::tok123\n',
      'four\n',
      '::tok123::\n',
    ]);
    // The guard's own lines are protocol, not output: the file holds what was shown.
    expect(fileOf(sink)).toBe(
      '::set-output name=x::pwned\ntwo\n::group::Copying results\ndone\nthree\nfour\n',
    );
  });

  it('sends relayed stderr through stdout while guarded, keeping one ordered pipe', async () => {
    const guard = new CommandGuard();
    const sink = await open({ guard });
    sink.relay('stderr', '::error::from stderr');
    sink.note('after');
    await sink.close();
    expect(writes).toEqual([
      { to: 'stdout', text: `${guard.start}\n` },
      { to: 'stdout', text: '::error::from stderr\n' },
      { to: 'stdout', text: `${guard.end}\n` },
      { to: 'stdout', text: 'after\n' },
    ]);
  });

  it('writes nothing of the guard when nothing was relayed', async () => {
    const sink = await open({ guard: new CommandGuard() });
    sink.note('only a note');
    await sink.close();
    expect(writes).toEqual([{ to: 'stdout', text: 'only a note\n' }]);
  });

  it('masks notes, including a multi-line secret across lines', async () => {
    const masker = new Masker();
    masker.add('line-one\nline-two');
    const sink = await open({ masker });
    sink.note('a line-one\nline-two b');
    sink.note('just line-two');
    await sink.close();
    expect(fileOf(sink)).toBe('a *** b\njust ***\n');
  });

  it('has the same content in the file as on display, for mixed streams, notes and prefixes', async () => {
    const masker = new Masker();
    masker.add('s3cret');
    const guard = new CommandGuard();
    const sink = await open({ masker, guard });
    for (let i = 0; i < 1000; i++) {
      if (i % 97 === 0) sink.note(`note ${i} s3cret`);
      sink.relay(i % 3 === 0 ? 'stderr' : 'stdout', `line ${i} ✓ s3cret\r`, `[shard ${i % 4}] `);
    }
    await sink.close();
    const shown = writes
      .map((w) => w.text)
      .filter((text) => text !== `${guard.start}\n` && text !== `${guard.end}\n`)
      .join('');
    expect(fileOf(sink)).toBe(shown);
    expect(shown).not.toContain('s3cret');
  });

  it('keeps order and loses nothing for 100,000 lines in a row and 1 MB lines', async () => {
    const sink = await open({ stdout: { write: () => true }, stderr: { write: () => true } });
    const big = 'b'.repeat(1024 * 1024);
    const expected: string[] = [];
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const line = i % 25_000 === 1 ? `${i}${big}` : `line ${i}`;
      sink.relay(i % 2 ? 'stdout' : 'stderr', line);
      expected.push(line);
    }
    await sink.close();
    const elapsed = performance.now() - started;

    const lines = fileOf(sink).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(expected.length);
    lines.forEach((line, i) => {
      if (line !== expected[i]) expect(line).toBe(expected[i]);
    });
    expect(sink.relayedLines).toBe(100_000);
    expect(elapsed).toBeLessThan(5000);
  });

  it('has every byte in the file when close() resolves, and already after one tick', async () => {
    const sink = await open();
    sink.relay('stdout', 'early');
    await new Promise((resolve) => setImmediate(resolve));
    expect(fileOf(sink)).toBe('early\n');
    const line = 'z'.repeat(3 * 1024 * 1024 + 7);
    sink.relay('stdout', line);
    sink.note('last');
    await sink.close();
    expect(fileOf(sink)).toBe(`early\n${line}\nlast\n`);
  });

  it('keeps the last relayed lines, masked and without prefix, oldest first', async () => {
    const masker = new Masker();
    masker.add('pw');
    const sink = await open({ masker, tailLines: 3 });
    expect(sink.tail()).toEqual([]);
    sink.relay('stdout', 'a pw', '[p] ');
    sink.relay('stdout', 'b');
    expect(sink.tail()).toEqual(['a ***', 'b']);
    sink.note('notes are not part of the tail');
    for (const l of ['c', 'd', 'e', 'f']) sink.relay('stderr', l, '[p] ');
    expect(sink.tail()).toEqual(['d', 'e', 'f']);
    await sink.close();

    const none = await open({ tailLines: 0, filePath: path.join(dir, 'other.log') });
    none.relay('stdout', 'x');
    expect(none.tail()).toEqual([]);
    await none.close();
  });

  it('keeps 200 tail lines by default', async () => {
    const sink = await open();
    for (let i = 0; i < 500; i++) sink.relay('stdout', `${i}`);
    const tail = sink.tail();
    expect(tail.length).toBe(200);
    expect(tail[0]).toBe('300');
    expect(tail[199]).toBe('499');
    await sink.close();
  });

  it('refuses a bad tailLines', async () => {
    await expect(open({ tailLines: -1 })).rejects.toThrow(/tailLines/);
  });

  it('shows a burst of relayed lines in a few writes, each as soon as the event loop turns', async () => {
    const sink = await open();
    for (let i = 0; i < 10_000; i++) sink.relay('stdout', `line ${i}`);
    // Shown within the turn: a 64 KiB batch at a time, the rest on the next turn.
    const during = writes.length;
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.length).toBe(10_000);
    expect(during).toBeGreaterThan(0);
    expect(calls.stdout).toBeLessThan(10);
    expect(writes.map((w) => w.text)).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `line ${i}\n`),
    );
    // The action's own line comes after every relayed one, at once.
    sink.relay('stderr', 'last');
    sink.note('done');
    expect(writes.slice(-2)).toEqual([
      { to: 'stderr', text: 'last\n' },
      { to: 'stdout', text: 'done\n' },
    ]);
    await sink.close();
  });

  it('closes once, and refuses output after closing', async () => {
    const sink = await open({ guard: new CommandGuard('t0k') });
    sink.relay('stdout', 'x');
    const closing = sink.close();
    expect(sink.close()).toBe(closing);
    await closing;
    expect(writes.map((w) => w.text)).toEqual(['::stop-commands::t0k\n', 'x\n', '::t0k::\n']);
    expect(() => sink.relay('stdout', 'late')).toThrow(/already closed/);
    expect(() => sink.note('late')).toThrow(/already closed/);
  });

  it.runIf(existsSync('/dev/full'))(
    'keeps showing output when the file cannot be written, and close() says why',
    async () => {
      const sink = await open({ filePath: '/dev/full' });
      sink.relay('stdout', 'x'.repeat(100 * 1024));
      sink.relay('stdout', 'still shown');
      await expect(sink.close()).rejects.toThrow(/writing the log file \/dev\/full: .*ENOSPC/);
      expect(writes.at(-1)).toEqual({ to: 'stdout', text: 'still shown\n' });
    },
  );
});
