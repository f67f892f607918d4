/**
 * The real `prodigy` 0.4.4 running shell-only workflows, standard and MapReduce, through cook():
 * in the test image on Docker and as a Job on the test cluster (the workspace sent into the pod
 * and the results brought back), and as a host process on the local runtime. What is asserted is
 * what a user finds afterwards: the step's status, the log, and the commits in their checkout.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputName } from '../../src/config/names.js';
import { prodigyHomeOnHost } from '../../src/runtime/spec.js';
import { cookWith } from '../support/cook.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace } from '../support/workspace.js';

const g = ground();
const fixtures = path.resolve(import.meta.dirname, '../fixtures/workflows');

function checkout(options: { detached?: boolean } = {}): string {
  const files: Record<string, string> = {};
  for (const name of readdirSync(fixtures))
    files[name] = readFileSync(path.join(fixtures, name), 'utf8');
  return gitWorkspace(files, options);
}

type Runtime = 'docker' | 'local' | 'kubernetes';

function runProdigy(
  runtime: Runtime,
  workspace: string,
  inputs: Partial<Record<InputName, string>>,
) {
  const runtimeInputs: Partial<Record<InputName, string>> = {
    docker: { image: g.prodigyImage, 'pull-policy': 'never' },
    kubernetes: {
      image: g.prodigyImage,
      'pull-policy': 'never',
      'kubeconfig-path': g.kubeconfig,
    },
    local: { env: `PATH=${g.bin}:${process.env.PATH}` },
  }[runtime];
  return cookWith({ runtime, ...runtimeInputs, ...inputs }, { workspace });
}

describe.each(['docker', 'local', 'kubernetes'] as const)(
  'real Prodigy on the %s runtime',
  (runtime) => {
    it('runs a standard workflow whose commit reaches the checkout, on a branch made for a detached HEAD', async () => {
      const workspace = checkout({ detached: true });
      const { outcome, shown, settings } = await runProdigy(runtime, workspace, {
        workflow: 'standard.yml',
      });
      expect(outcome.status, shown.slice(-30).join('\n')).toBe('succeeded');
      expect(outcome.exitCode).toBe(0);
      // Prodigy prints each step it runs (not the step's own output, at its default verbosity).
      expect(shown.some((line) => line.includes('shell: echo hello from prodigy'))).toBe(true);
      // The detached HEAD became a branch of this run's own, and Prodigy merged into it.
      const branch = `cook/${settings.runId}`;
      expect(git(workspace, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(branch);
      expect(readFileSync(path.join(workspace, 'made-by-prodigy.txt'), 'utf8')).toBe(
        'made by prodigy\n',
      );
      expect(git(workspace, 'log', '--format=%s', '-1', '--', 'made-by-prodigy.txt')).toBe(
        'standard: add made-by-prodigy.txt',
      );
      expect(outcome.git).toMatchObject({ branch, commits: 1 });
      // Prodigy's records stay with the run, outside the checkout.
      const home = prodigyHomeOnHost(settings);
      expect(readdirSync(home)).toEqual(expect.arrayContaining(['sessions']));
      expect(git(workspace, 'status', '--porcelain')).toBe('');
    });

    it('runs a MapReduce workflow: every item commits, reduce sees them all, commits reach the checkout', async () => {
      const workspace = checkout();
      const { outcome, shown } = await runProdigy(runtime, workspace, {
        workflow: 'mapreduce.yml',
      });
      expect(outcome.status, shown.slice(-30).join('\n')).toBe('succeeded');
      expect(
        shown.some((line) =>
          line.includes('Map phase completed: 3 successful, 0 failed (total: 3)'),
        ),
      ).toBe(true);
      expect(
        shown.some((line) => line.includes('Reduce phase input: 3 items (3 successful, 0 failed)')),
      ).toBe(true);
      for (const name of ['alpha', 'beta', 'gamma']) {
        expect(readFileSync(path.join(workspace, `item-${name}.txt`), 'utf8')).toBe(`${name}\n`);
      }
      const results = JSON.parse(
        readFileSync(path.join(workspace, 'map-results.json'), 'utf8'),
      ) as {
        item_id: string;
        status: unknown;
      }[];
      expect(results.map((r) => r.item_id).sort()).toEqual(['item_0', 'item_1', 'item_2']);
      expect(results.every((r) => r.status === 'Success')).toBe(true);
      expect(outcome.git?.branch).toBe('main');
      expect(outcome.git?.commits).toBeGreaterThanOrEqual(4);
    });

    it('reports the session branch holding the commits when Prodigy could not merge', async () => {
      const workspace = checkout();
      const { outcome } = await runProdigy(runtime, workspace, { workflow: 'unmerged.yml' });
      // Prodigy exits non-zero when its merge is not verified; the commit is not lost.
      expect(outcome.status).toBe('failed');
      expect(outcome.git?.branch).toMatch(/^prodigy-(workflow|session)-/);
      expect(outcome.git?.commits).toBe(1);
      expect(git(workspace, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
      expect(git(workspace, 'log', '-1', '--format=%s', outcome.git!.branch)).toBe(
        'unmerged: add unmerged.txt',
      );
    });

    it('fails when Prodigy fails, with its exit code', async () => {
      const workspace = checkout();
      copyFileSync(path.join(fixtures, 'standard.yml'), path.join(workspace, 'broken.yml'));
      const { outcome } = await runProdigy(runtime, workspace, {
        workflow: 'standard.yml',
        args: '--resume no-such-session',
      });
      expect(outcome.status).toBe('failed');
      expect(outcome.exitCode).not.toBe(0);
      expect(existsSync(path.join(workspace, 'made-by-prodigy.txt'))).toBe(false);
    });
  },
);

describe('real Prodigy on Docker, as another user', () => {
  it("runs as the owner of a checkout owned by another user, whose files stay that user's", async () => {
    const workspace = checkout();
    execFileSync('chown', ['-R', '1001:1001', workspace]);
    const { outcome, shown } = await runProdigy('docker', workspace, { workflow: 'mapreduce.yml' });
    expect(outcome.status, shown.slice(-30).join('\n')).toBe('succeeded');
    expect(statSync(path.join(workspace, 'item-alpha.txt')).uid).toBe(1001);
    expect(statSync(path.join(workspace, 'map-results.json')).uid).toBe(1001);
    expect(outcome.git?.commits).toBeGreaterThanOrEqual(4);
  });
});
