/**
 * Pulling from a private registry, for real: the ground's registry (test/ground/registry.sh, the
 * CNCF distribution registry with htpasswd auth on 127.0.0.1) holds the busybox image plus a layer
 * of its own, under a name the engine has no local copy of. Each case removes the local copy first, so what
 * is asserted is what a user of `registry-username` / `registry-password` and `pull-policy` sees.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { InputName } from '../../src/config/names.js';
import { cookWith } from '../support/cook.js';
import { groundDocker } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { tempWorkspace } from '../support/workspace.js';

interface Registry {
  /** host:port, as in an image reference. */
  readonly address: string;
  /** An image only the registry holds, behind basic auth. */
  readonly image: string;
  readonly username: string;
  readonly password: string;
}

/** The registry's facts, as `bash test/ground/registry.sh up` prints them; fails, never skips. */
function registry(): Registry {
  const env = process.env;
  const keys = ['REGISTRY', 'REGISTRY_IMAGE', 'REGISTRY_USERNAME', 'REGISTRY_PASSWORD'];
  const missing = keys.filter((key) => !env[key]);
  if (missing.length > 0) {
    throw new Error(
      `The test ground's registry is not set up (missing ${missing.join(', ')}). Run the suite ` +
        `with 'npm test', or export the KEY=VALUE lines that 'bash test/ground/registry.sh up' prints.`,
    );
  }
  return {
    address: env.REGISTRY!,
    image: env.REGISTRY_IMAGE!,
    username: env.REGISTRY_USERNAME!,
    password: env.REGISTRY_PASSWORD!,
  };
}

ground();
const r = registry();
const docker = groundDocker();

function run(inputs: Partial<Record<InputName, string>>) {
  return cookWith(
    {
      runtime: 'docker',
      image: r.image,
      // The file is in the registry image's own layer: this is the pulled image, running.
      command: 'test -f /private-image.txt && echo pulled-ok',
      ...inputs,
    },
    { workspace: tempWorkspace() },
  );
}

const withCredentials = { 'registry-username': r.username, 'registry-password': r.password };

async function removeLocalCopy(): Promise<void> {
  try {
    await docker.getImage(r.image).remove({ force: true });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}

async function present(): Promise<boolean> {
  try {
    await docker.getImage(r.image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

const pulling = (shown: string[]) => shown.filter((line) => line.startsWith(`Pulling ${r.image}`));

describe('pulling from a registry that requires credentials', () => {
  beforeEach(async () => {
    await removeLocalCopy();
    expect(await present()).toBe(false);
  });

  it('pulls with registry-username and registry-password under if-not-present, and runs', async () => {
    const { outcome, shown } = await run({ ...withCredentials, 'pull-policy': 'if-not-present' });
    expect(outcome.status, outcome.reason).toBe('succeeded');
    expect(shown).toContain('pulled-ok');
    expect(pulling(shown)).toEqual([`Pulling ${r.image} as ${r.username}…`]);
    // Layer progress was shown too: the registry image's own layer was downloaded and extracted.
    expect(shown.some((line) => /^ {2}[0-9a-f]{12}: Pull complete$/.test(line))).toBe(true);
    expect(await present()).toBe(true);
  });

  it('fails without credentials, naming the image and the registry refusal', async () => {
    const { outcome, shown } = await run({ 'pull-policy': 'if-not-present' });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toContain(r.image);
    expect(outcome.reason).toMatch(/no basic auth credentials|unauthorized/i);
    expect(shown).not.toContain('pulled-ok');
    expect(await present()).toBe(false);
  });

  it('fails with a wrong password, says unauthorized, and never shows the password', async () => {
    const wrong = 'wrong-Pa55word-for-cook';
    const { outcome, shown, file } = await run({
      'registry-username': r.username,
      'registry-password': wrong,
      'pull-policy': 'if-not-present',
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toContain(r.image);
    expect(outcome.reason).toMatch(/unauthorized/i);
    expect(outcome.reason).not.toContain(wrong);
    for (const text of [shown.join('\n'), file]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(r.password);
    }
    expect(await present()).toBe(false);
  });

  it('pulls again under pull-policy always, even when the image is present', async () => {
    const first = await run({ ...withCredentials, 'pull-policy': 'if-not-present' });
    expect(first.outcome.status, first.outcome.reason).toBe('succeeded');
    expect(await present()).toBe(true);

    const { outcome, shown } = await run({ ...withCredentials, 'pull-policy': 'always' });
    expect(outcome.status, outcome.reason).toBe('succeeded');
    expect(pulling(shown)).toHaveLength(1);
    // The engine asked the registry, which had nothing newer.
    expect(shown).toContain(`  Status: Image is up to date for ${r.image}`);
    expect(shown).toContain('pulled-ok');

    const again = await run({ ...withCredentials, 'pull-policy': 'if-not-present' });
    expect(again.outcome.status).toBe('succeeded');
    expect(pulling(again.shown)).toEqual([]);
    expect(again.shown).toContain(
      `Image ${r.image} is present; not pulling (pull-policy: if-not-present).`,
    );
  });
});
