import { lstatSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputName } from '../../../src/config/names.js';
import { buildSettings } from '../../../src/config/settings.js';
import { containerCreateOptions } from '../../../src/runtime/docker/docker-runtime.js';
import { dockerMessage } from '../../../src/runtime/docker/errors.js';
import { buildRunSpec } from '../../../src/runtime/spec.js';

function settingsFor(inputs: Partial<Record<InputName, string>>) {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'cook-spec-'));
  mkdirSync(path.join(workspace, '.git'));
  writeFileSync(path.join(workspace, 'wf.yml'), '- shell: "true"\n');
  return buildSettings(
    (name) => inputs[name] ?? '',
    { GITHUB_WORKSPACE: workspace, GITHUB_RUN_ID: '42' },
    {
      randomId: () => 'r1',
      tmpdir: '/tmp/t',
    },
  );
}

const host = {
  ownerOf: () => '1001:121',
  isFolder: (file: string) => lstatSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false,
};

describe('buildRunSpec', () => {
  it('runs Prodigy as the workspace owner with what Prodigy needs', () => {
    const spec = buildRunSpec(
      settingsFor({ workflow: 'wf.yml', args: '-n 2', env: 'GIT_AUTHOR_NAME=me' }),
      host,
    );
    expect(spec.argv.slice(3)).toEqual(['prodigy', 'wf.yml', '--yes', '-n', '2']);
    expect(spec.argv[2]).toContain('exec prodigy run "$@"');
    expect(spec.container?.user).toBe('1001:121');
    expect(spec.env).toMatchObject({
      PRODIGY_HOME: '/cook/prodigy-home',
      IS_SANDBOX: '1',
      HOME: '/tmp/cook-home',
      COOK_BRANCH: 'cook/r1',
      GIT_AUTHOR_NAME: 'me',
      GIT_COMMITTER_NAME: 'cook-action',
      GIT_CONFIG_KEY_0: 'safe.directory',
    });
    // The checkout's .git is not the workload's: it sees a git folder of the run's own, and
    // the checkout's objects read-only.
    expect(spec.mounts).toEqual([
      { host: expect.stringMatching(/cook-spec-/), target: '/workspace' },
      { host: '/tmp/t/cook-action/r1/git', target: '/workspace/.git' },
      {
        host: expect.stringMatching(/cook-spec-.*\/\.git\/objects$/),
        target: '/cook/git-objects',
        readOnly: true,
      },
      { host: '/tmp/t/cook-action/r1/prodigy-home', target: '/cook/prodigy-home' },
    ]);
    expect(spec.labels).toMatchObject({
      'io.prodigy.cook-action.run': 'r1',
      'io.prodigy.cook-action.workflow': 'wf.yml',
      'io.prodigy.cook-action.github-run': '42',
    });
  });

  it('keeps the user given, and the image user for plain commands', () => {
    expect(
      buildRunSpec(settingsFor({ workflow: 'wf.yml', user: 'prodigy' }), host).container?.user,
    ).toBe('prodigy');
    expect(buildRunSpec(settingsFor({ command: 'true' }), host).container?.user).toBeUndefined();
  });

  it('keeps secrets out of the plain environment', () => {
    const spec = buildRunSpec(
      settingsFor({ command: 'true', env: 'TOKEN=plain', secrets: 'TOKEN=secret' }),
      host,
    );
    expect(spec.env.TOKEN).toBeUndefined();
    expect(spec.secretEnv).toEqual({ TOKEN: 'secret' });
  });
});

describe('containerCreateOptions', () => {
  it('turns limits into what the engine takes', () => {
    const spec = buildRunSpec(
      settingsFor({ command: 'echo hi', cpu: '1.5', memory: '512Mi', gpus: 'all' }),
      host,
    );
    const body = containerCreateOptions(spec, undefined);
    expect(body.Entrypoint).toEqual([
      'sh',
      '-c',
      expect.stringContaining('"$@" &'),
      'cook-workload',
      'sh',
    ]);
    expect(body.Cmd).toEqual(['-c', 'echo hi']);
    expect(body.WorkingDir).toBe('/workspace');
    expect(body.HostConfig).toMatchObject({
      NanoCpus: 1_500_000_000,
      Memory: 512 * 1024 ** 2,
      MemorySwap: 512 * 1024 ** 2,
      NetworkMode: 'bridge',
      Init: true,
      DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }],
    });
  });
});

describe('dockerMessage', () => {
  it("keeps the engine's words and drops docker-modem's wrapper", () => {
    expect(
      dockerMessage(
        Object.assign(
          new Error('(HTTP code 500) server error - unauthorized: authentication required'),
          {
            json: null,
          },
        ),
      ),
    ).toBe('unauthorized: authentication required');
    expect(dockerMessage({ json: { message: 'No such image: x ' } })).toBe('No such image: x');
    expect(dockerMessage(new Error('connect ENOENT /var/run/docker.sock'))).toBe(
      'connect ENOENT /var/run/docker.sock',
    );
  });
});
