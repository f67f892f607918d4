/**
 * cook() over a runtime of the test's own: each phase's part (prepare, start, the verdict and
 * what stops it, the output relay, cleanup) driven to its edges, with no engine in the way.
 * The real engines go through the same path in the contract and end-to-end suites.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputName } from '../../../src/config/names.js';
import { buildSettings } from '../../../src/config/settings.js';
import { cook } from '../../../src/cook.js';
import { ownTimeoutMs, raceVerdict } from '../../../src/engine/deadline.js';
import { OutputRelay } from '../../../src/engine/relay.js';
import { peakAtLimit } from '../../../src/engine/verdict.js';
import { LogSink } from '../../../src/logs/log-sink.js';
import { Masker } from '../../../src/logs/masker.js';
import type {
  ContainerRuntime,
  ExitStatus,
  OutputChunk,
  RunningWorkload,
} from '../../../src/runtime/types.js';
import { Capture } from '../../support/capture.js';

/** A workload whose exit, output and stopping the test decides. */
class FakeWorkload implements RunningWorkload {
  readonly id = 'fake-1';
  readonly stops: number[] = [];
  private settle!: (exit: ExitStatus) => void;
  private readonly exited = new Promise<ExitStatus>((resolve) => (this.settle = resolve));
  private emit: ((chunk: OutputChunk) => void) | undefined;
  private endOutput!: () => void;
  private readonly outputEnded = new Promise<void>((resolve) => (this.endOutput = resolve));

  constructor(
    private readonly options: {
      /** What stopping does: exit with this code (default 143), or nothing at all. */
      onStop?: 'exit' | 'ignore';
      /** The output never ends, even after the exit. */
      holdOutput?: boolean;
      enforcesTimeout?: boolean;
    } = {},
  ) {}

  get enforcesTimeout(): boolean | undefined {
    return this.options.enforcesTimeout;
  }

  output(onChunk: (chunk: OutputChunk) => void, signal?: AbortSignal): Promise<void> {
    this.emit = onChunk;
    signal?.addEventListener('abort', () => this.endOutput(), { once: true });
    return this.outputEnded;
  }

  say(text: string): void {
    this.emit?.({ stream: 'stdout', data: Buffer.from(text) });
  }

  exit(status: ExitStatus): void {
    this.settle(status);
    if (!this.options.holdOutput) this.endOutput();
  }

  wait(): Promise<ExitStatus> {
    return this.exited;
  }

  async stop(graceSeconds: number): Promise<void> {
    this.stops.push(graceSeconds);
    if (this.options.onStop !== 'ignore') this.exit({ exitCode: 143, oomKilled: false });
  }
}

/** A runtime around one FakeWorkload, counting what was asked of it. */
class FakeRuntime implements ContainerRuntime {
  readonly kind = 'local' as const;
  readonly calls: string[] = [];
  constructor(
    readonly workload: FakeWorkload,
    private readonly faults: {
      prepare?: () => Promise<void>;
      start?: () => Promise<void>;
      cleanup?: () => Promise<void>;
    } = {},
  ) {}
  describe(): string {
    return 'a fake workload';
  }
  async prepare(): Promise<void> {
    this.calls.push('prepare');
    await this.faults.prepare?.();
  }
  async start(): Promise<RunningWorkload> {
    this.calls.push('start');
    await this.faults.start?.();
    return this.workload;
  }
  async cleanup(): Promise<void> {
    this.calls.push('cleanup');
    await this.faults.cleanup?.();
  }
  async sweep(): Promise<string[]> {
    return [];
  }
}

async function cooked(
  runtime: FakeRuntime,
  inputs: Partial<Record<InputName, string>> = {},
  controller = new AbortController(),
) {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'cook-engine-'));
  const settings = buildSettings(
    (name) => ({ runtime: 'local', command: 'true', ...inputs })[name] ?? '',
    { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: `${workspace}-tmp` },
  );
  const shown = new Capture();
  const sink = await LogSink.open({
    filePath: settings.logPath,
    stdout: shown,
    stderr: shown,
    masker: new Masker(),
  });
  try {
    const outcome = await cook(settings, { runtime, sink, signal: controller.signal });
    return { outcome, shown: shown.lines };
  } finally {
    await sink.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cook() over a runtime of its own', () => {
  it("takes the engine's exit code and relays every line, then cleans up", async () => {
    const workload = new FakeWorkload();
    const runtime = new FakeRuntime(workload, {
      start: async () => {
        setTimeout(() => {
          workload.say('one\ntw');
          workload.say('o\nthree');
          workload.exit({ exitCode: 3, oomKilled: false });
        }, 20);
      },
    });
    const { outcome, shown } = await cooked(runtime);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'exit code 3', exitCode: 3 });
    expect(shown.filter((line) => ['one', 'two', 'three'].includes(line))).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(outcome.relayedLines).toBe(3);
    expect(runtime.calls).toEqual(['prepare', 'start', 'cleanup']);
  });

  it('stops the workload at its timeout: SIGTERM with the grace, timed-out, cleaned up', async () => {
    const workload = new FakeWorkload();
    const runtime = new FakeRuntime(workload);
    const { outcome, shown } = await cooked(runtime, { timeout: '1s' });
    expect(outcome).toMatchObject({
      status: 'timed-out',
      reason: 'the run exceeded its timeout of 1s',
      exitCode: 143,
    });
    expect(workload.stops).toEqual([10]);
    expect(shown).toContain(
      'Timed out after 1s: stopping the workload (SIGTERM, then SIGKILL after 10s).',
    );
    expect(runtime.calls.at(-1)).toBe('cleanup');
  });

  it('leaves the timeout to an engine that enforces it, and takes its word', async () => {
    const workload = new FakeWorkload({ enforcesTimeout: true });
    const runtime = new FakeRuntime(workload, {
      start: async () => {
        setTimeout(
          () =>
            workload.exit({
              exitCode: undefined,
              oomKilled: false,
              timedOut: true,
              error: 'DeadlineExceeded',
            }),
          1500,
        );
      },
    });
    const { outcome } = await cooked(runtime, { timeout: '1s' });
    expect(workload.stops).toEqual([]);
    expect(outcome).toMatchObject({
      status: 'timed-out',
      reason: 'the engine stopped the run at its deadline (DeadlineExceeded)',
    });
  });

  it('cancelled while preparing: nothing is started, and the run says so', async () => {
    const controller = new AbortController();
    const workload = new FakeWorkload();
    const runtime = new FakeRuntime(workload, {
      prepare: () => new Promise(() => setTimeout(() => controller.abort(), 20)),
    });
    const { outcome } = await cooked(runtime, {}, controller);
    expect(outcome).toMatchObject({
      status: 'cancelled',
      reason: 'the run was cancelled before the workload started',
    });
    expect(runtime.calls).toEqual(['prepare', 'cleanup']);
  });

  it('cancelled while starting: the workload is stopped as soon as it exists', async () => {
    const controller = new AbortController();
    const workload = new FakeWorkload();
    const runtime = new FakeRuntime(workload, {
      start: async () => {
        controller.abort();
        await sleep(20);
      },
    });
    const { outcome } = await cooked(runtime, {}, controller);
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'the run was cancelled' });
    expect(workload.stops).toEqual([2]);
    expect(runtime.calls).toEqual(['prepare', 'start', 'cleanup']);
  });

  it('cancelled while running: stopped with the short grace, its output read no longer than 1.5 s', async () => {
    const controller = new AbortController();
    const workload = new FakeWorkload({ holdOutput: true });
    const runtime = new FakeRuntime(workload, {
      start: async () => {
        setTimeout(() => controller.abort(), 50);
      },
    });
    const started = Date.now();
    const { outcome, shown } = await cooked(runtime, {}, controller);
    expect(outcome.status).toBe('cancelled');
    expect(workload.stops).toEqual([2]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(shown).toContain(
      'The output did not end after the workload exited; stopped reading it.',
    );
  });

  it('a workload that ignores the stop: no exit code, still cancelled, still cleaned up', async () => {
    const controller = new AbortController();
    const workload = new FakeWorkload({ onStop: 'ignore' });
    const runtime = new FakeRuntime(workload, {
      start: async () => {
        setTimeout(() => controller.abort(), 20);
      },
    });
    const { outcome } = await cooked(runtime, {}, controller);
    expect(outcome.status).toBe('cancelled');
    expect(outcome.exitCode).toBeUndefined();
    expect(runtime.calls.at(-1)).toBe('cleanup');
  }, 15_000);

  it.each([
    ['prepare', 'the image is gone'],
    ['start', 'the engine refused the container'],
  ] as const)('a runtime that throws in %s fails the run with its words', async (phase, words) => {
    const workload = new FakeWorkload();
    const runtime = new FakeRuntime(workload, {
      [phase]: async () => {
        throw new Error(words);
      },
    });
    const { outcome } = await cooked(runtime);
    expect(outcome).toMatchObject({ status: 'failed', reason: words });
    expect(runtime.calls.at(-1)).toBe('cleanup');
  });

  it("a cleanup that throws is said, and does not change the run's verdict", async () => {
    const workload = new FakeWorkload();
    const runtime = new FakeRuntime(workload, {
      start: async () => {
        setTimeout(() => workload.exit({ exitCode: 0, oomKilled: false }), 10);
      },
      cleanup: async () => {
        throw new Error('the container is stuck');
      },
    });
    const { outcome, shown } = await cooked(runtime);
    expect(outcome.status).toBe('succeeded');
    expect(shown).toContain('Cleanup failed: the container is stuck');
  });
});

describe('the parts', () => {
  it('the own timer is the timeout, or a backstop behind an engine that enforces it', () => {
    expect(ownTimeoutMs(undefined, true)).toBeUndefined();
    expect(ownTimeoutMs(5000, false)).toBe(5000);
    expect(ownTimeoutMs(5000, true)).toBe(185_000);
  });

  it('the verdict race: a passed cap ends the wait, a watch that stops without one does not', async () => {
    const never = { wait: () => new Promise<ExitStatus>(() => {}) };
    const passed = { input: 'max-turns' as const, message: 'past it' };
    await expect(
      raceVerdict(never, new AbortController().signal, undefined, Promise.resolve(passed)),
    ).resolves.toEqual({ kind: 'over-limit', passed });
    await expect(
      raceVerdict(never, new AbortController().signal, 50, Promise.resolve(undefined)),
    ).resolves.toEqual({ kind: 'timed-out' });
  });

  it('the relay gives up on output that stalls after the exit, and keeps what came', async () => {
    const shown = new Capture();
    const workspace = mkdtempSync(path.join(os.tmpdir(), 'cook-relay-'));
    const sink = await LogSink.open({
      filePath: path.join(workspace, 'log'),
      stdout: shown,
      stderr: shown,
      masker: new Masker(),
    });
    const workload = new FakeWorkload({ holdOutput: true });
    const relay = new OutputRelay(workload, sink, Date.now, 300);
    workload.say('last words without a newline');
    workload.exit({ exitCode: 0, oomKilled: false });
    const started = Date.now();
    await relay.finish(false);
    await sink.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(shown.lines).toContain('last words without a newline');
    expect(shown.lines).toContain(
      'The output did not end after the workload exited; stopped reading it.',
    );
  });

  it('a workload killed for memory peaked at its limit, counted or not', () => {
    const oom = { exitCode: 137, oomKilled: true };
    expect(peakAtLimit(undefined, oom, 512)).toEqual({ source: 'oom-kill', memoryPeakBytes: 512 });
    expect(peakAtLimit({ source: 'cgroup', memoryPeakBytes: 500 }, oom, 512)).toEqual({
      source: 'cgroup',
      memoryPeakBytes: 512,
    });
    expect(
      peakAtLimit({ source: 'cgroup', memoryPeakBytes: 100 }, { ...oom, oomKilled: false }, 512),
    ).toEqual({ source: 'cgroup', memoryPeakBytes: 100 });
    expect(peakAtLimit(undefined, oom, undefined)).toBeUndefined();
  });
});
