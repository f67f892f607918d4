import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { InputName } from '../../../src/config/names.js';
import { buildSettings, dockerConnection } from '../../../src/config/settings.js';

let workspace: string;
beforeEach(() => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'cook-settings-'));
  mkdirSync(path.join(workspace, '.git'));
  mkdirSync(path.join(workspace, 'workflows'));
  writeFileSync(path.join(workspace, 'workflows', 'fix.yml'), '- shell: "true"\n');
});

function settingsFor(inputs: Partial<Record<InputName, string>>, env: Record<string, string> = {}) {
  return buildSettings(
    (name) => inputs[name] ?? '',
    { GITHUB_WORKSPACE: workspace, ...env },
    {
      randomId: () => 'abc123',
      tmpdir: '/tmp/t',
    },
  );
}

describe('buildSettings', () => {
  it('bounds what travels by transfer-limit, 4Gi unless told, and names it when it is wrong', () => {
    expect(settingsFor({ command: 'true' }).transferLimit).toEqual({
      bytes: 4 * 1024 ** 3,
      text: '4Gi',
    });
    expect(settingsFor({ command: 'true', 'transfer-limit': '512Mi' }).transferLimit.bytes).toBe(
      512 * 1024 ** 2,
    );
    expect(() => settingsFor({ command: 'true', 'transfer-limit': 'lots' })).toThrow(
      `Input 'transfer-limit' has invalid value "lots": expected a size such as 512Mi, 4Gi or 1g (at least 1Mi)`,
    );
  });

  it('builds a frozen Prodigy run on Docker from a workflow alone', () => {
    const settings = settingsFor({ workflow: 'workflows/fix.yml', args: '-n 2' });
    expect(settings.runtime).toBe('docker');
    expect(settings.workload).toEqual({
      kind: 'prodigy',
      workflow: 'workflows/fix.yml',
      args: ['-n', '2'],
      gitMerge: false,
    });
    expect(settings.workspace).toBe(workspace);
    expect(settings.logPath).toBe('/tmp/t/cook-action/abc123/output.log');
    expect(Object.isFrozen(settings)).toBe(true);
    if (settings.runtime !== 'docker') throw new Error('docker expected');
    expect(settings.image).toBe('ghcr.io/prodigy/cook-agent:0.1.0');
    expect(settings.pullPolicy).toBe('if-not-present');
    expect(settings.network).toBe('bridge');
  });

  it('takes git-merge and verbosity for Prodigy, and names what verbosity accepts', () => {
    const settings = settingsFor({
      workflow: 'workflows/fix.yml',
      args: '-n 2',
      'git-merge': 'true',
      verbosity: '2',
    });
    expect(settings.workload).toMatchObject({ args: ['-n', '2', '-vv'], gitMerge: true });
    expect(() => settingsFor({ workflow: 'workflows/fix.yml', verbosity: 'loud' })).toThrow(
      `Input 'verbosity' has invalid value "loud": expected 0 (Prodigy's own progress), 1 (also every step's output, and Prodigy's debug lines), 2 or 3 (tracing)`,
    );
    expect(() => settingsFor({ workflow: 'workflows/fix.yml', 'git-merge': 'yes please' })).toThrow(
      "Input 'git-merge'",
    );
  });

  it('takes a spend cap and a turn cap for Prodigy, and names what each accepts', () => {
    expect(
      settingsFor({ workflow: 'workflows/fix.yml', 'max-cost-usd': '0.50', 'max-turns': '40' })
        .claudeLimits,
    ).toEqual({ maxCostUsd: 0.5, maxTurns: 40 });
    expect(settingsFor({ workflow: 'workflows/fix.yml' }).claudeLimits).toBeUndefined();
    for (const bad of ['0', '-1', '$5', '1e3', 'lots']) {
      expect(() => settingsFor({ workflow: 'workflows/fix.yml', 'max-cost-usd': bad })).toThrow(
        `Input 'max-cost-usd' has invalid value ${JSON.stringify(bad)}: expected a number of US dollars above 0, such as 5 or 0.50 (what Claude may cost in all)`,
      );
    }
    for (const bad of ['0', '2.5', 'ten']) {
      expect(() => settingsFor({ workflow: 'workflows/fix.yml', 'max-turns': bad })).toThrow(
        `Input 'max-turns' has invalid value ${JSON.stringify(bad)}: expected a whole number of Claude's turns from 1 up`,
      );
    }
    expect(() => settingsFor({ command: 'claude -p hi', 'max-turns': '3' })).toThrow(
      `Input 'max-turns' is invalid: it caps the Claude of a Prodigy workflow ('workflow'), and a 'command' runs none the action can count`,
    );
  });

  it('keeps the run folder under RUNNER_TEMP', () => {
    const settings = settingsFor({ command: 'true' }, { RUNNER_TEMP: '/runner/tmp' });
    expect(settings.runDir).toBe('/runner/tmp/cook-action/abc123');
  });

  it('reports every secret before parsing anything that could fail', () => {
    const seen: string[] = [];
    expect(() =>
      buildSettings(
        (name) =>
          ({
            secrets: 'A=one\nB<<X\ntwo\nthree\nX',
            'registry-password': 'pw',
            'registry-username': 'me',
            memory: 'lots',
            command: 'x',
          })[name as string] ?? '',
        { GITHUB_WORKSPACE: workspace },
        { onSecret: (v) => seen.push(v) },
      ),
    ).toThrow(/memory/);
    expect(seen).toEqual(['one', 'two\nthree', 'pw']);
  });

  it.each([
    [{ memory: 'lots', command: 'x' }, `Input 'memory' has invalid value "lots"`],
    [
      { runtime: 'podman-ish', command: 'x' },
      `Input 'runtime' has invalid value "podman-ish": expected one of 'docker', 'kubernetes', 'local'`,
    ],
    [{ timeout: 'soon', command: 'x' }, `Input 'timeout' has invalid value "soon"`],
    [
      { runtime: 'kubernetes', namespace: 'Team_A', command: 'x' },
      `Input 'namespace' has invalid value "Team_A": expected a Kubernetes namespace name (lower-case letters, digits and -)`,
    ],
    [{ cpu: '-2', command: 'x' }, `Input 'cpu' has invalid value "-2"`],
    [
      { network: 'wifi', command: 'x' },
      `Input 'network' has invalid value "wifi": expected one of 'bridge', 'none', 'isolated', 'host'`,
    ],
    [
      { 'pull-policy': 'sometimes', command: 'x' },
      `Input 'pull-policy' has invalid value "sometimes"`,
    ],
    [
      {},
      `Input 'workflow' has invalid value "": expected a workflow file to run with Prodigy, or a 'command'`,
    ],
    [
      { workflow: 'missing.yml' },
      `Input 'workflow' has invalid value "missing.yml": expected a Prodigy workflow file`,
    ],
    [
      { workflow: '../outside.yml' },
      `Input 'workflow' has invalid value "../outside.yml": expected a file inside the workspace`,
    ],
    [
      { command: 'x', 'registry-username': 'me' },
      `'registry-username' and 'registry-password' must be given together`,
    ],
    [{ command: 'x', user: 'root; rm' }, `Input 'user' has invalid value "root; rm"`],
    [{ command: 'x', 'ttl-seconds': '-5' }, `Input 'ttl-seconds' has invalid value "-5"`],
  ] as [Partial<Record<InputName, string>>, string][])('refuses %o', (inputs, message) => {
    expect(() => settingsFor(inputs)).toThrow(message);
  });

  it('needs a git checkout for Prodigy runs', () => {
    const bare = mkdtempSync(path.join(os.tmpdir(), 'cook-nogit-'));
    writeFileSync(path.join(bare, 'wf.yml'), '[]');
    expect(() =>
      buildSettings((n) => (n === 'workflow' ? 'wf.yml' : ''), { GITHUB_WORKSPACE: bare }),
    ).toThrow(/Input 'workspace' has invalid value .*expected a git checkout/);
  });

  it('runs a command without Prodigy, with env and secrets apart', () => {
    const settings = settingsFor({ command: 'make test', env: 'A=1', secrets: 'TOKEN=s3cret' });
    expect(settings.workload).toEqual({ kind: 'command', command: 'make test' });
    expect(settings.env.get('A')).toBe('1');
    expect(settings.secrets.get('TOKEN')).toBe('s3cret');
  });

  it('keeps the runner private variables from a local process', () => {
    const settings = settingsFor(
      { command: 'env', runtime: 'local', memory: '1Gi' },
      {
        PATH: '/bin',
        INPUT_SECRETS: 'T=x',
        ACTIONS_RUNTIME_TOKEN: 't',
        GITHUB_OUTPUT: '/o',
        GITHUB_SHA: 'abc',
      },
    );
    if (settings.runtime !== 'local') throw new Error('local expected');
    expect(settings.hostEnv).toMatchObject({ PATH: '/bin', GITHUB_SHA: 'abc' });
    expect(settings.hostEnv).not.toHaveProperty('INPUT_SECRETS');
    expect(settings.hostEnv).not.toHaveProperty('ACTIONS_RUNTIME_TOKEN');
    expect(settings.hostEnv).not.toHaveProperty('GITHUB_OUTPUT');
    expect(settings.ignoredInputs).toEqual(['memory']);
  });
});

describe('dockerConnection', () => {
  it('reads DOCKER_HOST', () => {
    expect(dockerConnection({})).toEqual({ kind: 'socket', socketPath: '/var/run/docker.sock' });
    expect(dockerConnection({ DOCKER_HOST: 'unix:///run/d.sock' })).toEqual({
      kind: 'socket',
      socketPath: '/run/d.sock',
    });
    expect(dockerConnection({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toEqual({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 2375,
    });
    expect(() => dockerConnection({ DOCKER_HOST: 'ssh://x' })).toThrow(
      /DOCKER_HOST has value "ssh:\/\/x"/,
    );
  });
});

describe('splitting inputs', () => {
  const mapreduce = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-split-'));
    mkdirSync(path.join(dir, '.git'));
    writeFileSync(path.join(dir, 'mr.yml'), 'name: m\nmode: mapreduce\nmap:\n  input: i.json\n');
    writeFileSync(path.join(dir, 'std.yml'), '- shell: echo\n');
    return dir;
  };
  const build = (inputs: Record<string, string>) => {
    const workspace = mapreduce();
    return buildSettings((name) => inputs[name] ?? '', { GITHUB_WORKSPACE: workspace });
  };

  it('takes max-parallel for a MapReduce workflow', () => {
    expect(build({ workflow: 'mr.yml', 'max-parallel': '4' }).maxParallel).toBe(4);
  });

  it('takes up to 256 shards on the runner, and up to the Job API’s 100000 on Kubernetes', () => {
    const shards = (runtime: string, count: number) =>
      build({ runtime, workflow: 'mr.yml', 'max-parallel': String(count) }).maxParallel;
    expect(shards('docker', 256)).toBe(256);
    expect(shards('local', 256)).toBe(256);
    expect(shards('kubernetes', 257)).toBe(257);
    expect(shards('kubernetes', 100_000)).toBe(100_000);
    expect(() => shards('docker', 257)).toThrow(
      `Input 'max-parallel' has invalid value "257": expected a whole number of shards from 1 to 256 with runtime 'docker', each a container on this runner (1 to 100000 with runtime 'kubernetes')`,
    );
    expect(() => shards('local', 257)).toThrow(
      `Input 'max-parallel' has invalid value "257": expected a whole number of shards from 1 to 256 with runtime 'local', each a process on this runner (1 to 100000 with runtime 'kubernetes')`,
    );
    expect(() => shards('kubernetes', 100_001)).toThrow(
      `Input 'max-parallel' has invalid value "100001": expected a whole number of shards from 1 to 100000 with runtime 'kubernetes' (the Job API's most for the Indexed Job they share)`,
    );
    expect(() => shards('kubernetes', 0)).toThrow(/from 1 to 100000 with runtime 'kubernetes'/);
  });

  it.each([
    [
      { workflow: 'std.yml', 'max-parallel': '4' },
      /Input 'max-parallel' has invalid value "4": expected a MapReduce workflow to split; std.yml is a standard workflow/,
    ],
    [{ command: 'make', 'max-parallel': '4' }, /Input 'max-parallel' .* not a 'command'/],
    [{ workflow: 'mr.yml', 'max-parallel': '0' }, /from 1 to 256/],
    [
      { workflow: 'mr.yml', 'max-parallel': '2', shard: '{}' },
      /Input 'max-parallel' .* nothing when 'shard' is given/,
    ],
    [{ workflow: 'mr.yml', shard: '{"nope": 1}' }, /Input 'shard' has invalid value/],
  ])('refuses %j, naming the input', (inputs, message) => {
    expect(() => build(inputs)).toThrow(message);
  });
});

describe('report inputs', () => {
  const command = { command: 'true' } as const;
  it('reads retention-days, and refuses what the artifact service would not take', () => {
    expect(settingsFor({ ...command, 'retention-days': '7' }).retentionDays).toBe(7);
    expect(settingsFor(command).retentionDays).toBeUndefined();
    for (const bad of ['0', '91', '7d', '-1']) {
      expect(() => settingsFor({ ...command, 'retention-days': bad })).toThrow(
        `Input 'retention-days' has invalid value "${bad}": expected a whole number of days from 1 to 90`,
      );
    }
  });
  it('needs a token to comment, and masks it', () => {
    expect(() => settingsFor({ ...command, comment: 'true' })).toThrow(
      /Input 'github-token' .*a token that may write pull-request comments/,
    );
    const masked: string[] = [];
    const settings = buildSettings(
      (name) =>
        ({ ...command, comment: 'true', 'github-token': 'ghs_secret' })[name as string] ?? '',
      { GITHUB_WORKSPACE: workspace },
      { onSecret: (value) => masked.push(value) },
    );
    expect(settings.comment).toBe(true);
    expect(masked).toContain('ghs_secret');
  });
  it('finds the pull request in the event, and the run link', () => {
    const event = path.join(workspace, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: 42 } }));
    const { github } = settingsFor(command, {
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_RUN_ID: '9',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_WORKFLOW: 'CI',
    });
    expect(github.pullRequest).toBe(42);
    expect(github.workflow).toBe('CI');
    expect(github.runUrl).toBe('https://github.com/o/r/actions/runs/9/attempts/2');
    expect(github.apiUrl).toBe('https://api.github.com');
    writeFileSync(event, JSON.stringify({ issue: { number: 5, pull_request: {} } }));
    expect(settingsFor(command, { GITHUB_EVENT_PATH: event }).github.pullRequest).toBe(5);
    writeFileSync(event, JSON.stringify({ issue: { number: 5 } }));
    expect(settingsFor(command, { GITHUB_EVENT_PATH: event }).github.pullRequest).toBeUndefined();
  });
});
