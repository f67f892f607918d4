import { describe, expect, it } from 'vitest';
import { judge } from '../../../src/engine/verdict.js';
import type { RunOutcome } from '../../../src/engine/outcome.js';
import { metrics, outcomeOutputs } from '../../../src/report/outputs.js';
import { runSummary } from '../../../src/report/summary.js';
import { escapeMarkdown } from '../../../src/report/summary-blocks.js';

const outcome: RunOutcome = {
  status: 'failed',
  reason: 'exit code 7 <script>',
  runtime: 'docker',
  image: 'debian:bookworm-slim',
  exitCode: 7,
  workloadId: 'abc',
  logPath: '/tmp/log',
  startedAt: 0,
  endedAt: 2500,
  durationSeconds: 2.5,
  phases: { prepare_seconds: 0.1234, run_seconds: 2.2 },
  firstOutputSeconds: 0.4,
  relayedLines: 3,
  relayedBytes: 30,
};

describe('judge', () => {
  it('takes success only from an exit code of 0', () => {
    expect(judge({ exitCode: 0, oomKilled: false }, undefined)).toEqual({
      status: 'succeeded',
      reason: 'exit code 0',
    });
    expect(judge({ exitCode: 7, oomKilled: false }, undefined).status).toBe('failed');
  });
  it('treats a missing exit code as a failure, never a success', () => {
    expect(judge({ exitCode: undefined, oomKilled: false, error: 'gone' }, undefined)).toEqual({
      status: 'failed',
      reason: 'the engine reported no exit code (gone)',
    });
    expect(judge(undefined, undefined).status).toBe('failed');
  });
  it('names an out-of-memory kill with its limit', () => {
    expect(judge({ exitCode: 137, oomKilled: true }, '64Mi').reason).toBe(
      'killed for running out of memory (OOMKilled, limit 64Mi), exit code 137',
    );
  });
});

describe('outputs', () => {
  it('names every output of action.yml it sets, with units in metric names', () => {
    const outputs = outcomeOutputs(outcome);
    expect(outputs).toMatchObject({
      status: 'failed',
      'exit-code': '7',
      duration: '2.5',
      'container-id': 'abc',
    });
    expect(JSON.parse(outputs.metrics!)).toEqual({
      duration_seconds: 2.5,
      prepare_seconds: 0.123,
      run_seconds: 2.2,
      first_output_seconds: 0.4,
      log_lines: 3,
      log_bytes: 30,
    });
    expect(Object.keys(metrics(outcome)).every((k) => /_(seconds|lines|bytes)$/.test(k))).toBe(
      true,
    );
  });
  it('leaves exit-code empty when the engine gave none', () => {
    expect(outcomeOutputs({ ...outcome, exitCode: undefined })['exit-code']).toBe('');
  });
});

describe('summary', () => {
  it('puts status, runtime, image, duration and exit code first, and escapes HTML', () => {
    const { markdown } = runSummary({
      title: 'cook-action: <b>wf</b>',
      outcome: {
        ...outcome,
        logTail: [
          '<img src=x onerror=alert(1)>',
          '\x1b[2m2026\x1b[0m \x1b[32m INFO\x1b[0m last line',
        ],
      },
      metrics: { ...metrics(outcome), cpu_seconds: 1.5, memory_peak_bytes: 3 * 1024 * 1024 },
    });
    expect(markdown).toContain('### ❌ cook-action: &lt;b&gt;wf&lt;/b&gt;');
    expect(markdown).toContain('| Status | Runtime | Image | Duration | Exit code |');
    expect(markdown).toContain(
      '| ❌ failed | docker | <code>debian:bookworm-slim</code> | 2.5 s | 7 |',
    );
    expect(markdown).toContain('Why: exit code 7 &lt;script&gt;');
    expect(markdown).toContain('| workload | 1.5 s | 3.0 MiB | — | — |');
    expect(markdown).toContain('&lt;img src=x onerror=alert(1)&gt;\n2026  INFO last line</pre>');
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('<img');
  });
  it('escapes table breakers', () => {
    expect(escapeMarkdown('a|b\nc')).toBe('a&#124;b c');
  });
});
