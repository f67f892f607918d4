/**
 * One contract, every runtime: the same inputs through the real Settings → cook() path, against
 * the real Docker engine and a real local process. What is asserted is what a user would see:
 * the status, the exit code, the lines shown and the log file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputName } from '../../src/config/names.js';
import { cookWith } from '../support/cook.js';
import { groundDocker, leftovers as leftoversOf } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { tempWorkspace } from '../support/workspace.js';

const g = ground();

function run(
  runtime: 'docker' | 'local',
  inputs: Partial<Record<InputName, string>>,
  options: { cancelAfterMs?: number; workspace?: string } = {},
) {
  return cookWith(
    { runtime, image: g.busyboxImage, 'pull-policy': 'never', ...inputs },
    { ...options, workspace: options.workspace ?? tempWorkspace() },
  );
}

const docker = groundDocker();

const leftovers = (runId: string) => leftoversOf(docker, runId);

describe.each(['docker', 'local'] as const)('the %s runtime', (runtime) => {
  it('succeeds on exit code 0 and relays stdout and stderr', async () => {
    const { outcome, shown } = await run(runtime, { command: 'echo out; echo err >&2; echo done' });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.exitCode).toBe(0);
    expect(shown).toEqual(expect.arrayContaining(['out', 'err', 'done']));
    expect(shown.indexOf('out')).toBeLessThan(shown.indexOf('done'));
  });

  it('fails with the exit code the workload returned', async () => {
    const { outcome } = await run(runtime, { command: 'echo failing; exit 7' });
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(7);
    expect(outcome.reason).toBe('exit code 7');
  });

  it('passes env and secrets, and masks every line of a secret in what is shown and in the file', async () => {
    const { outcome, shown, file } = await run(runtime, {
      command: 'echo "plain=$PLAIN"; echo "token=$TOKEN"; printf "%s\\n" "$KEY"',
      env: 'PLAIN=visible',
      secrets: 'TOKEN=s3cr3t-value\nKEY<<EOF\nfirst-secret-line\nsecond-secret-line\nEOF',
    });
    expect(outcome.status).toBe('succeeded');
    expect(shown).toEqual(expect.arrayContaining(['plain=visible', 'token=***', '***', '***']));
    for (const text of [shown.join('\n'), file]) {
      expect(text).not.toContain('s3cr3t-value');
      expect(text).not.toContain('secret-line');
    }
  });

  it('delivers 100,000 lines once each and in order, to the screen and the file', async () => {
    const { outcome, shown, file } = await run(runtime, { command: 'seq 1 100000' });
    expect(outcome.status).toBe('succeeded');
    const numbers = shown.filter((line) => /^\d+$/.test(line)).map(Number);
    expect(numbers.length).toBe(100_000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(file.split('\n').filter((line) => /^\d+$/.test(line)).length).toBe(100_000);
    expect(outcome.relayedLines).toBe(100_000);
  });

  it('keeps a 1 MB line whole and carriage returns as written', async () => {
    const { shown } = await run(runtime, {
      command: "head -c 1048576 /dev/zero | tr '\\0' a; echo; printf 'progress 1\\rprogress 2\\n'",
    });
    const long = shown.find((line) => line.startsWith('aaaa'));
    expect(long?.length).toBe(1_048_576);
    expect(/^a+$/.test(long!)).toBe(true);
    expect(shown).toContain('progress 1\rprogress 2');
  });

  it('stops the workload at the timeout and reports timed-out', async () => {
    const started = Date.now();
    const { outcome } = await run(runtime, { command: 'echo started; sleep 60', timeout: '2s' });
    expect(outcome.status).toBe('timed-out');
    expect(outcome.reason).toContain('timeout of 2s');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('stops, cleans up and reports cancelled within seconds of a cancellation', async () => {
    const started = Date.now();
    const { outcome, settings } = await run(
      runtime,
      { command: 'trap "" TERM; echo started; sleep 60' },
      { cancelAfterMs: 1500 },
    );
    expect(outcome.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1500 + 7000);
    if (runtime === 'docker') expect(await leftovers(settings.runId)).toEqual([]);
  });

  it('works in the workspace: files written there reach the host', async () => {
    const workspace = tempWorkspace({ 'input.txt': 'hello' });
    const { outcome } = await run(
      runtime,
      { command: 'cat input.txt > output.txt; pwd > where.txt' },
      { workspace },
    );
    expect(outcome.status).toBe('succeeded');
    expect(readFileSync(path.join(workspace, 'output.txt'), 'utf8')).toBe('hello');
    const where = readFileSync(path.join(workspace, 'where.txt'), 'utf8').trim();
    expect(where).toBe(runtime === 'docker' ? '/workspace' : workspace);
  });

  it('shows a container printing workflow commands exactly as text', async () => {
    const { shown } = await run(runtime, { command: 'echo "::set-output name=status::succeeded"' });
    expect(shown).toContain('::set-output name=status::succeeded');
  });
});

describe('the local runtime alone', () => {
  it('stops waiting for output that stalls after the exit (a child holding the pipe)', async () => {
    const started = Date.now();
    const { outcome, shown } = await run('local', {
      command: 'echo before; sleep 25 & echo after; exit 0',
    });
    expect(outcome.status).toBe('succeeded');
    expect(shown).toEqual(expect.arrayContaining(['before', 'after']));
    expect(shown).toContain(
      'The output did not end after the workload exited; stopped reading it.',
    );
    // Fifteen quiet seconds after the exit, not the sleep's twenty-five.
    expect(Date.now() - started).toBeGreaterThan(14_000);
    expect(Date.now() - started).toBeLessThan(24_000);
  });
});

describe('the docker runtime alone', () => {
  it('names an out-of-memory kill as such, with exit code 137', async () => {
    const { outcome } = await run('docker', {
      command: 'echo allocating; head -c 200m /dev/zero | tail > /dev/null',
      memory: '16Mi',
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(137);
    expect(outcome.oomKilled).toBe(true);
    expect(outcome.reason).toContain('out of memory');
  });

  it('gives an isolated run a network of its own and removes it afterwards', async () => {
    const { outcome, shown, settings } = await run('docker', {
      command: 'cat /etc/hostname; ip -o -4 addr show | grep -v " lo " | wc -l',
      network: 'isolated',
    });
    expect(outcome.status).toBe('succeeded');
    expect(shown).toContain('1');
    expect(await leftovers(settings.runId)).toEqual([]);
  });

  it('gives network none no interface but loopback', async () => {
    const { shown } = await run('docker', {
      command: 'ip -o link show | grep -vc " lo:"  || true',
      network: 'none',
    });
    expect(shown).toContain('0');
  });

  it('applies cpu, memory, user and labels', async () => {
    const { outcome, shown } = await run('docker', {
      command:
        'id -u; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max',
      memory: '64Mi',
      cpu: '0.5',
      user: '1234:1234',
    });
    expect(outcome.status).toBe('succeeded');
    expect(shown).toContain('1234');
    expect(shown).toContain(String(64 * 1024 * 1024));
  });

  it('refuses a missing image under pull-policy never, and leaves nothing', async () => {
    const { outcome, settings } = await run('docker', {
      command: 'true',
      image: 'cook-test/absent:1',
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toContain(
      "cook-test/absent:1 is not present on the Docker engine and pull-policy is 'never'",
    );
    expect(await leftovers(settings.runId)).toEqual([]);
  });

  it('reports a pull that cannot reach its registry, naming the image', async () => {
    const { outcome } = await run('docker', {
      command: 'true',
      image: '127.0.0.1:9/cook-test/unreachable:1',
      'pull-policy': 'always',
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/Pulling image 127\.0\.0\.1:9\/cook-test\/unreachable:1/);
  });

  it('prints the container spec on dry-run, secrets hidden, and creates nothing', async () => {
    const { outcome, shown, settings } = await run('docker', {
      command: 'echo never',
      secrets: 'TOKEN=dry-secret',
      memory: '1Gi',
      'dry-run': 'true',
    });
    expect(outcome.status).toBe('succeeded');
    const text = shown.join('\n');
    expect(text).toContain('"Memory": 1073741824');
    expect(text).toContain('TOKEN=***');
    expect(text).not.toContain('dry-secret');
    expect(text).not.toContain('never\n');
    expect(await leftovers(settings.runId)).toEqual([]);
  });
});
