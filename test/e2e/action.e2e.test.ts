/**
 * The committed dist/ bundle, run the way the GitHub runner runs it (test/harness), against the
 * real Docker engine: what a user sees in the step log, the outputs, the summary, and what is left
 * on the engine afterwards.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAction } from '../harness/runner.js';
import { clusterLeftovers } from '../support/cluster.js';
import { groundDocker, leftovers as leftoversOf } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace, tempWorkspace } from '../support/workspace.js';

const g = ground();
const actionDir = path.resolve(import.meta.dirname, '../..');
const docker = groundDocker();

function runCommand(
  command: string,
  inputs: Record<string, string> = {},
  options: { cancelAfterMs?: number } = {},
) {
  return runAction({
    actionDir,
    workspace: tempWorkspace(),
    env: { DOCKER_HOST: g.dockerHost },
    inputs: { command, image: g.busyboxImage, 'pull-policy': 'never', ...inputs },
    ...options,
  });
}

const leftovers = (runId: string) => leftoversOf(docker, runId);

/** Live processes whose environment carries the run's id. */
async function processesOfRun(runId: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (environ.includes(`COOK_ACTION_RUN_ID=${runId}`)) found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe('the action on Docker, through the runner protocol', () => {
  it('succeeds, sets its outputs and writes a summary', async () => {
    const { main, post } = await runCommand('echo hello from the container');
    expect(main.exitCode).toBe(0);
    expect(main.lines).toContain('hello from the container');
    expect(main.outputs.status).toBe('succeeded');
    expect(main.outputs['exit-code']).toBe('0');
    expect(Number(main.outputs.duration)).toBeGreaterThan(0);
    expect(main.outputs['container-id']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(main.outputs.metrics!)).toMatchObject({
      duration_seconds: expect.any(Number),
    });
    expect(readFileSync(main.outputs['log-path']!, 'utf8')).toContain('hello from the container');
    expect(main.summary).toMatch(
      /^\| ✅ succeeded \| docker \| <code>.+<\/code> \| [\d.]+ s \| 0 \|$/m,
    );
    expect(post?.exitCode).toBe(0);
  });

  it('propagates exit code 7 and fails the step', async () => {
    const { main } = await runCommand('exit 7');
    expect(main.failed).toBe(true);
    expect(main.outputs.status).toBe('failed');
    expect(main.outputs['exit-code']).toBe('7');
    expect(main.annotations).toContainEqual({
      level: 'error',
      message: 'The run failed: exit code 7.',
    });
  });

  it('names an out-of-memory kill, with 137', async () => {
    const { main } = await runCommand('head -c 200m /dev/zero | tail > /dev/null', {
      memory: '16Mi',
    });
    expect(main.failed).toBe(true);
    expect(main.outputs['exit-code']).toBe('137');
    expect(main.annotations.map((a) => a.message).join('\n')).toMatch(
      /out of memory \(OOMKilled, limit 16Mi\)/,
    );
  });

  it('stops at the timeout and reports timed-out', async () => {
    const { main } = await runCommand('echo waiting; sleep 120', { timeout: '3s' });
    expect(main.failed).toBe(true);
    expect(main.outputs.status).toBe('timed-out');
    expect(main.durationMs).toBeLessThan(30_000);
  });

  it('on cancellation removes its container and network within 7 seconds and reports cancelled', async () => {
    const { main, post, runnerTemp } = await runCommand(
      'trap "" TERM INT; echo ready; sleep 120',
      { network: 'isolated' },
      {
        cancelAfterMs: 3000,
      },
    );
    void runnerTemp;
    expect(main.outputs.status).toBe('cancelled');
    expect(main.failed).toBe(true);
    // The runner escalates to SIGTERM at 7.5 s; the action must be done before.
    expect(main.durationMs).toBeLessThan(3000 + 7000);
    expect(main.signal).toBeNull();
    const runId = main.state['run-id']!;
    expect(await leftovers(runId)).toEqual([]);
    expect(post?.exitCode).toBe(0);
  });

  it('leaves nothing behind after main is SIGKILLed: post sweeps by the labels saved in state', async () => {
    const { main, post } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      env: { DOCKER_HOST: g.dockerHost },
      inputs: {
        command: 'echo container-is-up; sleep 120',
        image: g.busyboxImage,
        'pull-policy': 'never',
        network: 'isolated',
      },
      killWhen: (line) => line === 'container-is-up',
    });
    expect(main.signal).toBe('SIGKILL');
    const runId = main.state['run-id']!;
    expect(runId).toMatch(/^[0-9a-f]{10}$/);
    expect(post?.exitCode).toBe(0);
    expect(post?.lines.join('\n')).toMatch(
      new RegExp(`Removed what run ${runId} left: container cook-${runId}, network cook-${runId}`),
    );
    expect(await leftovers(runId)).toEqual([]);
  });

  it('on the local runtime, post kills the processes a SIGKILLed main left running', async () => {
    const { main, post } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      inputs: { runtime: 'local', command: 'sleep 300 & echo process-is-up; wait' },
      killWhen: (line) => line === 'process-is-up',
    });
    expect(main.signal).toBe('SIGKILL');
    const runId = main.state['run-id']!;
    expect(post?.lines.join('\n')).toMatch(
      new RegExp(`Removed what run ${runId} left: process \\d+`),
    );
    expect(await processesOfRun(runId)).toEqual([]);
  });

  it('delivers 100,000 lines once each and in order', async () => {
    const { main } = await runCommand('seq 1 100000');
    const numbers = main.lines.filter((line) => /^\d+$/.test(line)).map(Number);
    expect(numbers.length).toBe(100_000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
  });

  it('keeps a 1 MB line intact', async () => {
    const { main } = await runCommand("head -c 1048576 /dev/zero | tr '\\0' x; echo");
    const long = main.lines.filter((line) => line.startsWith('xxxx'));
    expect(long).toHaveLength(1);
    expect(long[0]).toBe('x'.repeat(1_048_576));
  });

  it('never shows a secret, nor any line of a multi-line secret', async () => {
    const { main } = await runCommand(
      'echo "token is $TOKEN"; printf "%s\\n" "$PEM"; echo "$TOKEN" | rev',
      {
        secrets:
          'TOKEN=tok-4f9a-secret\nPEM<<EOF\n-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0B\n-----END KEY-----\nEOF',
      },
    );
    const everything = [
      main.rawStdout,
      main.rawStderr,
      readFileSync(main.outputs['log-path']!, 'utf8'),
    ].join('\n');
    expect(main.lines).toContain('token is ***');
    for (const shown of [main.lines.join('\n'), readFileSync(main.outputs['log-path']!, 'utf8')]) {
      expect(shown).not.toContain('tok-4f9a-secret');
      expect(shown).not.toContain('MIIBVwIBADANBgkqhkiG9w0B');
    }
    // Registered before the first byte of output.
    const firstMask = main.rawStdout.indexOf('::add-mask::');
    expect(firstMask).toBeGreaterThanOrEqual(0);
    expect(main.rawStdout.slice(0, firstMask)).toBe('');
    expect(main.masks).toEqual(
      expect.arrayContaining([
        'tok-4f9a-secret',
        'MIIBVwIBADANBgkqhkiG9w0B',
        '-----BEGIN KEY-----',
      ]),
    );
    void everything;
  });

  it('lets no container output change outputs, state or masks', async () => {
    const { main } = await runCommand(
      [
        'echo "::set-output name=status::succeeded"',
        'echo "::save-state name=run-id::hijacked"',
        'echo "::add-mask::hello"',
        'echo "::error::forged error" >&2',
        'echo hello',
        'exit 3',
      ].join('; '),
    );
    expect(main.outputs.status).toBe('failed');
    expect(main.state['run-id']).not.toBe('hijacked');
    expect(main.lines).toContain('::set-output name=status::succeeded');
    expect(main.lines).toContain('hello');
    expect(main.annotations.map((a) => a.message)).not.toContain('forged error');
  });

  it('fails at once on a bad input, naming it', async () => {
    const { main } = await runCommand('true', { memory: 'lots' });
    expect(main.failed).toBe(true);
    expect(main.annotations).toContainEqual({
      level: 'error',
      message:
        'Input \'memory\' has invalid value "lots": expected an amount of memory such as 512Mi, 4Gi, 512m or 1g (at least 6Mi)',
    });
  });

  it('prints the spec on dry-run and creates nothing', async () => {
    const { main } = await runCommand('echo never-run', { 'dry-run': 'true', cpu: '2' });
    expect(main.exitCode).toBe(0);
    expect(main.lines.join('\n')).toContain('"NanoCpus": 2000000000');
    expect(main.lines).not.toContain('never-run');
  });
});

describe('the action running real Prodigy, through the runner protocol', () => {
  const fixtures = path.resolve(import.meta.dirname, '../fixtures/workflows');
  const checkout = (options: { detached?: boolean } = {}) =>
    gitWorkspace(
      Object.fromEntries(
        readdirSync(fixtures).map((name) => [
          name,
          readFileSync(path.join(fixtures, name), 'utf8'),
        ]),
      ),
      options,
    );

  const runInProdigyImage = (workflow: string, workspace: string) =>
    runAction({
      actionDir,
      workspace,
      env: { DOCKER_HOST: g.dockerHost },
      inputs: { workflow, image: g.prodigyImage, 'pull-policy': 'never' },
    });

  it('runs a standard workflow in cook-test/prodigy; its commit lands on a branch of the run in the checkout', async () => {
    const workspace = checkout({ detached: true });
    const { main } = await runInProdigyImage('standard.yml', workspace);
    expect(main.outputs.status, main.lines.slice(-20).join('\n')).toBe('succeeded');
    const branch = `cook/${main.state['run-id']}`;
    expect(main.outputs.branch).toBe(branch);
    expect(main.outputs.commits).toBe('1');
    expect(git(workspace, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(branch);
    expect(git(workspace, 'log', '-1', '--format=%s')).toBe('standard: add made-by-prodigy.txt');
    expect(main.summary).toContain(`**Commits:** 1 on <code>${branch}</code>`);
  });

  it('runs a MapReduce workflow in cook-test/prodigy; every item and the reduce commit land on main', async () => {
    const workspace = checkout();
    const { main } = await runInProdigyImage('mapreduce.yml', workspace);
    expect(main.outputs.status, main.lines.slice(-20).join('\n')).toBe('succeeded');
    expect(
      main.lines.some((l) => l.includes('Map phase completed: 3 successful, 0 failed (total: 3)')),
    ).toBe(true);
    expect(main.outputs.branch).toBe('main');
    expect(Number(main.outputs.commits)).toBeGreaterThanOrEqual(4);
    const log = git(workspace, 'log', '--format=%s');
    for (const subject of ['map: alpha', 'map: beta', 'map: gamma', 'reduce: map-results.json']) {
      expect(log).toContain(subject);
    }
  });

  it('runs the same workflow as a local process with the real binary', async () => {
    const workspace = checkout();
    const { main } = await runAction({
      actionDir,
      workspace,
      env: { PATH: `${g.bin}:${process.env.PATH}` },
      inputs: { workflow: 'mapreduce.yml', runtime: 'local' },
    });
    expect(main.outputs.status, main.lines.slice(-20).join('\n')).toBe('succeeded');
    expect(main.outputs['container-id']).toBeUndefined();
    expect(git(workspace, 'log', '--format=%s')).toContain('reduce: map-results.json');
  });
});

describe('the action on Kubernetes, through the runner protocol', () => {
  const kube = { runtime: 'kubernetes', 'kubeconfig-path': g.kubeconfig, 'pull-policy': 'never' };

  it('runs a MapReduce workflow in a Job; every item and the reduce commit land on main', async () => {
    const fixtures = path.resolve(import.meta.dirname, '../fixtures/workflows');
    const workspace = gitWorkspace(
      Object.fromEntries(
        readdirSync(fixtures).map((name) => [
          name,
          readFileSync(path.join(fixtures, name), 'utf8'),
        ]),
      ),
    );
    const { main, post } = await runAction({
      actionDir,
      workspace,
      inputs: { ...kube, workflow: 'mapreduce.yml', image: g.prodigyImage },
    });
    expect(main.outputs.status, main.lines.slice(-20).join('\n')).toBe('succeeded');
    const runId = main.state['run-id']!;
    expect(main.outputs['job-name']).toBe(`prodigy-${runId}`);
    expect(main.outputs.branch).toBe('main');
    const log = git(workspace, 'log', '--format=%s');
    for (const subject of ['map: alpha', 'map: beta', 'map: gamma', 'reduce: map-results.json']) {
      expect(log).toContain(subject);
    }
    expect(main.summary).toMatch(/^\| ✅ succeeded \| kubernetes \| /m);
    expect(clusterLeftovers(runId)).toBe('');
    expect(post?.exitCode).toBe(0);
  });

  it('on cancellation deletes its Job, pod, Secret and ConfigMap within 7 seconds', async () => {
    const { main } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      inputs: {
        ...kube,
        image: g.busyboxImage,
        command: 'trap "" TERM INT; echo pod-is-up; sleep 120',
        secrets: 'TOKEN=cancel-me',
      },
      cancelWhen: (line) => line === 'pod-is-up',
    });
    expect(main.outputs.status).toBe('cancelled');
    expect(main.signal).toBeNull();
    expect(clusterLeftovers(main.state['run-id']!)).toBe('');
  });

  it('leaves nothing behind after main is SIGKILLed: post sweeps the Job, its pod and Secret', async () => {
    const { main, post } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      inputs: {
        ...kube,
        image: g.busyboxImage,
        command: 'echo pod-is-up; sleep 120',
        secrets: 'TOKEN=kill-me',
      },
      killWhen: (line) => line === 'pod-is-up',
    });
    expect(main.signal).toBe('SIGKILL');
    const runId = main.state['run-id']!;
    expect(post?.exitCode).toBe(0);
    expect(post?.lines.join('\n')).toContain(
      `Removed what run ${runId} left: Job prodigy-${runId}`,
    );
    expect(clusterLeftovers(runId)).toBe('');
  });
});
