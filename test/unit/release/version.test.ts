/** scripts/version.mjs: the action's version and its default agent image say the same everywhere. */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from '../../../src/config/names.js';
// @ts-expect-error: a plain ES module script, without types
import { FILES } from '../../../scripts/version.mjs';

const root = path.resolve(import.meta.dirname, '../../..');
// Every file the script writes, and the script itself.
const files = ['package.json', 'package-lock.json', ...(FILES as string[]), 'scripts/version.mjs'];

function copy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-version-'));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(root, file), path.join(dir, file));
  }
  return dir;
}

const run = (dir: string, ...args: string[]) =>
  spawnSync('node', [path.join(dir, 'scripts/version.mjs'), ...args], { encoding: 'utf8' });

describe('the version and the default image', () => {
  it('the default image is the published one at the package version, in the code and every action.yml', () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(DEFAULT_IMAGE).toBe(`ghcr.io/prodigy/cook-agent:${version}`);
    const check = run(root, 'check', `v${version}`);
    expect(check.status, check.stderr).toBe(0);
  });

  it('a release tag that is not the package version is refused, naming both', () => {
    const check = run(root, 'check', 'v99.0.0');
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/package\.json says .*, the tag v99\.0\.0/);
  });

  it('set writes the version and the image everywhere, and check then agrees', () => {
    const dir = copy();
    expect(run(dir, 'set', '2.3.4', '--owner', 'Some-Org').stdout.trim()).toBe(
      'ghcr.io/some-org/cook-agent:2.3.4',
    );
    expect(run(dir, 'check', 'v2.3.4', '--owner', 'Some-Org').status).toBe(0);
    expect(readFileSync(path.join(dir, 'action.yml'), 'utf8')).toContain(
      'default: ghcr.io/some-org/cook-agent:2.3.4',
    );
    const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as {
      version: string;
    };
    expect(lock.version).toBe('2.3.4');
    // One file left behind is named.
    execFileSync('sed', [
      '-i',
      's/cook-agent:2.3.4/cook-agent:2.3.3/',
      path.join(dir, 'reduce/action.yml'),
    ]);
    const check = run(dir, 'check', 'v2.3.4', '--owner', 'Some-Org');
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(
      /reduce\/action\.yml names ghcr\.io\/some-org\/cook-agent:2\.3\.3/,
    );
  });
});
