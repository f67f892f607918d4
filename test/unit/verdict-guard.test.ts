/**
 * The guard, in a process of its own: a run that waits on a promise that can never settle (what
 * a lost engine connection did) must not end with exit code 0 and nothing said.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const guard = path.resolve(import.meta.dirname, '../../src/verdict-guard.ts');

function runScript(body: string) {
  const script = `
    import { guardVerdict, verdictDecided } from ${JSON.stringify(guard)};
    guardVerdict((message) => { console.error('FAILED: ' + message); process.exitCode = 1; });
    ${body}
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

describe('the verdict guard', () => {
  it('fails a process that would end while its run still waits on the engine', () => {
    const result = runScript('new Promise(() => {}).then(verdictDecided);');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'FAILED: The action was about to end before the run had a verdict',
    );
  });

  it('stays out of the way of a run that decided, however it ended', () => {
    const ok = runScript('Promise.resolve().then(verdictDecided);');
    expect(ok.status).toBe(0);
    expect(ok.stderr).toBe('');
    const failed = runScript(
      'Promise.reject(new Error("x")).catch(() => { verdictDecided(); process.exitCode = 7; });',
    );
    expect(failed.status).toBe(7);
    expect(failed.stderr).toBe('');
  });
});
