/**
 * The agent image (images/agent), as the ground builds it from its local Debian base: what it
 * holds and says of itself, and a real Prodigy run in it through cook() whose commit reaches the
 * checkout.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cookWith } from '../support/cook.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace } from '../support/workspace.js';

const g = ground();
const pinned = Object.fromEntries(
  readFileSync(path.resolve(import.meta.dirname, '../../images/agent/versions'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split('=') as [string, string]),
);

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

describe('the agent image', () => {
  it('holds the pinned Prodigy and Claude Code, git and an init, runs as a non-root user, and says what it is', () => {
    const out = docker(
      'run',
      '--rm',
      g.agentImage,
      'sh',
      '-c',
      [
        'prodigy --version',
        'claude --version',
        'git --version',
        'id -u',
        'git config user.name',
        // PID 1 is the init, not the shell.
        'tr "\\0" " " < /proc/1/cmdline; echo',
      ].join(' && '),
    ).split('\n');
    expect(out[0]).toBe(`prodigy ${pinned.PRODIGY_VERSION}`);
    expect(out[1]).toBe(`${pinned.CLAUDE_CODE_VERSION} (Claude Code)`);
    expect(out[2]).toMatch(/^git version /);
    expect(out[3]).toBe('1001');
    expect(out[4]).toBe('cook-action agent');
    expect(out[5]).toMatch(/^\/usr\/bin\/tini -- sh -c /);
    const labels = JSON.parse(
      docker('image', 'inspect', '--format', '{{json .Config.Labels}}', g.agentImage),
    ) as Record<string, string>;
    expect(labels).toMatchObject({
      'org.opencontainers.image.version': pinned.PRODIGY_VERSION,
      'org.opencontainers.image.source': 'https://github.com/prodigy/cook-action',
      'io.prodigy.cook-action.claude-code-version': pinned.CLAUDE_CODE_VERSION,
    });
  });

  it('runs a real Prodigy workflow through cook(), and its commit reaches the checkout', async () => {
    const workflow = readFileSync(
      path.resolve(import.meta.dirname, '../fixtures/workflows/standard.yml'),
      'utf8',
    );
    const workspace = gitWorkspace({ 'standard.yml': workflow });
    const before = git(workspace, 'rev-parse', 'HEAD');
    const { outcome, shown } = await cookWith(
      { runtime: 'docker', image: g.agentImage, 'pull-policy': 'never', workflow: 'standard.yml' },
      { workspace },
    );
    expect(outcome.status, shown.slice(-30).join('\n')).toBe('succeeded');
    expect(Number(git(workspace, 'rev-list', '--count', `${before}..main`))).toBeGreaterThan(0);
    expect(git(workspace, 'status', '--porcelain')).toBe('');
  });
});
