/**
 * The guides' commands, as written: every ```` ```sh tested ```` block of a guide in docs/, run in
 * order in one shell per guide (so a later block sees the variables and files of an earlier one),
 * in a fresh folder holding the repository's deploy/ (the guides speak from a checkout), with
 * `cook-action` on PATH as `npm link` would put it (the committed bundle), the ground's Docker
 * engine and, for the cluster guide, the ground's cluster as its admin.
 *
 * The guides name the published agent image; here the ground's build of images/agent stands in
 * for the registry, under that name.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from '../../src/config/names.js';
import { kubectl } from '../support/cluster.js';
import { ground } from '../support/ground.js';

const g = ground();
const root = path.resolve(import.meta.dirname, '../..');
const docs = path.join(root, 'docs');
const NAMESPACE = 'cook-action';

/** The blocks a guide marks as commands, in order. */
function testedBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^( *)```sh tested\n([\s\S]*?)^\1```$/gm)].map(([, indent, body]) =>
    body!
      .split('\n')
      .map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line))
      .join('\n'),
  );
}

const guides = readdirSync(docs)
  .filter((name) => name.endsWith('.md'))
  .map((name) => ({ name, blocks: testedBlocks(readFileSync(path.join(docs, name), 'utf8')) }))
  .filter((guide) => guide.blocks.length > 0);

/** What each guide's commands must show, beyond exiting 0. */
const shows: Record<string, string[]> = {
  'setup.md': ['hello from a container', 'status=succeeded'],
  'cluster.md': ['yes', 'hello from a pod'],
  'migrating.md': ['status=succeeded'],
};

let bin: string;
beforeAll(() => {
  bin = mkdtempSync(path.join(os.tmpdir(), 'cook-docs-bin-'));
  writeFileSync(
    path.join(bin, 'cook-action'),
    `#!/bin/sh\nexec '${process.execPath}' '${path.join(root, 'dist/cli/index.js')}' "$@"\n`,
  );
  chmodSync(path.join(bin, 'cook-action'), 0o755);
  const docker = { ...process.env, DOCKER_HOST: g.dockerHost };
  execFileSync('docker', ['tag', g.agentImage, DEFAULT_IMAGE], { env: docker });
  execFileSync('bash', [path.join(root, 'test/ground/ground.sh'), 'load', DEFAULT_IMAGE], {
    env: docker,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  removeNamespace();
}, 600_000);
afterAll(() => removeNamespace(), 300_000);

function removeNamespace(): void {
  kubectl('delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=240s');
}

describe("the guides' commands", () => {
  it('every guide with commands is here, and those the suite knows of', () => {
    expect(guides.map((guide) => guide.name).sort()).toEqual(Object.keys(shows).sort());
  });

  it.each(guides)(
    '$name: its commands run as written',
    ({ name, blocks }) => {
      const cwd = mkdtempSync(path.join(os.tmpdir(), 'cook-docs-'));
      cpSync(path.join(root, 'deploy'), path.join(cwd, 'deploy'), { recursive: true });
      const home = mkdtempSync(path.join(os.tmpdir(), 'cook-docs-home-'));
      // One stream, as a terminal shows it: the CLI prints its outputs on stderr.
      const script = ['exec 2>&1', 'set -euo pipefail', ...blocks].join('\n');
      let out: string;
      try {
        out = execFileSync('bash', ['-c', script], {
          cwd,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: [bin, path.dirname(g.kubectl), process.env.PATH].join(':'),
            HOME: home,
            DOCKER_HOST: g.dockerHost,
            KUBECONFIG: g.kubeconfig,
            GIT_AUTHOR_NAME: 'docs',
            GIT_AUTHOR_EMAIL: 'docs@example.com',
            GIT_COMMITTER_NAME: 'docs',
            GIT_COMMITTER_EMAIL: 'docs@example.com',
          },
          timeout: 600_000,
        });
      } catch (error) {
        const failed = error as { status: number; stdout: string };
        throw new Error(`${name}'s commands exited ${failed.status}:\n${failed.stdout}`);
      }
      for (const text of shows[name] ?? []) expect(out, out).toContain(text);
      if (name === 'cluster.md') {
        // The run left nothing in the namespace it was given.
        expect(
          kubectl('-n', NAMESPACE, 'get', 'jobs,pods,secrets,configmaps', '-o', 'name').replace(
            /^configmap\/kube-root-ca\.crt\n?/m,
            '',
          ),
        ).toBe('');
      }
    },
    600_000,
  );
});
