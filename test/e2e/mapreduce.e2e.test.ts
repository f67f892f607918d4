/**
 * The matrix MapReduce flow of the README run the way GitHub runs it: the committed bundle of
 * `./plan`, then `./` once per matrix entry, each in a checkout of its own, then `./reduce`, with
 * the real Prodigy image on Docker and on the cluster. No artifact service is given (as outside
 * GitHub): the shards read the plan from its folder and reduce gets their folders in `results`.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShardEntry } from '../../src/config/shard.js';
import { strFromU8, unzipSync } from 'fflate';
import { runAction } from '../harness/runner.js';
import { ArtifactService } from '../support/artifact-service.js';
import { clusterLeftovers } from '../support/cluster.js';
import { groundDocker, leftovers } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { cloneCheckout } from '../support/mapreduce.js';
import { git, gitWorkspace } from '../support/workspace.js';

const g = ground();
const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.resolve(import.meta.dirname, '../fixtures/sharding');

function origin(): string {
  const files: Record<string, string> = {};
  for (const name of readdirSync(fixtures)) {
    files[name] = readFileSync(path.join(fixtures, name), 'utf8');
  }
  return gitWorkspace(files);
}

const runtimes = {
  docker: { image: g.prodigyImage, 'pull-policy': 'never' },
  kubernetes: {
    runtime: 'kubernetes',
    image: g.prodigyImage,
    'pull-policy': 'never',
    'kubeconfig-path': g.kubeconfig,
  },
} as const;

describe.each(['docker', 'kubernetes'] as const)('matrix MapReduce on %s', (runtime) => {
  const inputs = { ...runtimes[runtime], workflow: 'sharded.yml' };
  const env = { DOCKER_HOST: g.dockerHost };

  it('plan → three shards → reduce: outputs, summaries and every commit in the final checkout', async () => {
    const repo = origin();

    const planned = await runAction({
      actionDir: path.join(root, 'plan'),
      workspace: cloneCheckout(repo),
      env,
      inputs: { ...inputs, shards: '3' },
    });
    expect(planned.main.exitCode, planned.main.lines.slice(-20).join('\n')).toBe(0);
    expect(planned.main.outputs['item-count']).toBe('7');
    expect(planned.main.outputs['shard-count']).toBe('3');
    const matrix = JSON.parse(planned.main.outputs.matrix!) as { include: ShardEntry[] };
    expect(matrix.include.map((e) => e.name)).toEqual([
      'shard 1 of 3',
      'shard 2 of 3',
      'shard 3 of 3',
    ]);
    expect(planned.main.summary).toContain('7 work item(s) in 3 shard(s)');
    expect(
      planned.main.annotations.some(
        (a) => a.level === 'notice' && /No artifact service/.test(a.message),
      ),
    ).toBe(true);

    const results: string[] = [];
    for (const entry of matrix.include) {
      const { main, post } = await runAction({
        actionDir: root,
        workspace: cloneCheckout(repo),
        env,
        // As the map job passes it: `shard: ${{ toJSON(matrix) }}`.
        inputs: { ...inputs, shard: JSON.stringify(entry, null, 2) },
      });
      expect(main.exitCode, main.lines.slice(-20).join('\n')).toBe(0);
      expect(main.outputs.status).toBe('succeeded');
      expect(main.summary).toContain(`(${entry.name})`);
      expect(post?.exitCode).toBe(0);
      const file = main.outputs.results!;
      const shardResults = JSON.parse(readFileSync(file, 'utf8')) as {
        results: { item_id: string }[];
      };
      expect(shardResults.results.map((r) => r.item_id)).toEqual(
        Array.from({ length: entry.size }, (_, i) => `item_${entry.first + i}`),
      );
      results.push(path.dirname(file));
    }

    const final = cloneCheckout(repo);
    const reduced = await runAction({
      actionDir: path.join(root, 'reduce'),
      workspace: final,
      env,
      inputs: { ...inputs, results: results.join('\n') },
    });
    expect(reduced.main.exitCode, reduced.main.lines.slice(-30).join('\n')).toBe(0);
    expect(reduced.main.outputs.status).toBe('succeeded');
    expect(reduced.main.lines).toContain(
      'Map phase over 3 shard(s): 7 successful, 0 failed (total: 7).',
    );
    expect(reduced.main.summary).toContain(
      '**Items:** 7 successful, 0 failed (total 7), in 3 shard(s).',
    );
    const merged = JSON.parse(readFileSync(reduced.main.outputs.results!, 'utf8')) as {
      total: number;
      results: unknown[];
    };
    expect(merged.total).toBe(7);
    for (const name of ['one', 'two', 'three', 'four', 'five', 'six', 'seven']) {
      expect(readFileSync(path.join(final, `item-${name}.txt`), 'utf8')).toBe(`${name}\n`);
    }
    expect(readFileSync(path.join(final, 'map-totals.txt'), 'utf8')).toBe(
      'total=7 successful=7 failed=0\n',
    );
    expect(git(final, 'log', '-1', '--format=%s')).toBe('reduce: results');
  });

  it('a shard with a failing item fails its job; reduce fails and names the item', async () => {
    const repo = origin();
    const workJson = readFileSync(path.join(repo, 'work.json'), 'utf8').replace(
      '"name": "six", "score": 8',
      '"name": "six", "score": 8, "fail": "yes"',
    );
    writeFileSync(path.join(repo, 'work.json'), workJson);
    git(repo, 'commit', '-qam', 'six fails');

    const planned = await runAction({
      actionDir: path.join(root, 'plan'),
      workspace: cloneCheckout(repo),
      env,
      inputs: { ...inputs, shards: '2' },
    });
    const matrix = JSON.parse(planned.main.outputs.matrix!) as { include: ShardEntry[] };
    const shard = await runAction({
      actionDir: root,
      workspace: cloneCheckout(repo),
      env,
      inputs: { ...inputs, shard: JSON.stringify(matrix.include[0]) },
    });
    expect(shard.main.failed).toBe(true);
    expect(shard.main.outputs.status).toBe('failed');
    expect(shard.main.annotations).toContainEqual({
      level: 'error',
      message: 'The shard 1 of 2 failed: 1 of 4 item(s) failed.',
    });

    // The second shard's job never ran: its items count as failed too.
    const reduced = await runAction({
      actionDir: path.join(root, 'reduce'),
      workspace: cloneCheckout(repo),
      env,
      inputs: { ...inputs, results: path.dirname(shard.main.outputs.results!) },
    });
    expect(reduced.main.failed).toBe(true);
    expect(reduced.main.outputs.status).toBe('failed');
    expect(reduced.main.annotations).toContainEqual({
      level: 'error',
      message: 'The reduce failed: 4 of 7 item(s) failed.',
    });
    expect(reduced.main.summary).toContain('| 2/2 | ❔ never reported | 3 |');
    expect(reduced.main.summary).toMatch(
      /^\| item_1 \| 1\/2 \| ❌ failed \| [\d.]+ s \| Processing error/m,
    );
  });
});

describe.each(['docker', 'kubernetes'] as const)(
  'max-parallel on %s: the action splits the items itself',
  (runtime) => {
    it('runs three shards at once, one fold each, and reduces into the workspace', async () => {
      const repo = origin();
      const docker = groundDocker();
      const { main, post } = await runAction({
        actionDir: root,
        workspace: repo,
        env: { DOCKER_HOST: g.dockerHost },
        inputs: { ...runtimes[runtime], workflow: 'sharded.yml', 'max-parallel': '3' },
      });
      expect(main.exitCode, main.lines.slice(-30).join('\n')).toBe(0);
      expect(main.outputs.status).toBe('succeeded');
      expect(main.summary).toContain('**Items:** 7 successful, 0 failed (total 7), in 3 shard(s).');

      // One fold per shard, in shard order, each holding only its own shard's prefixed lines.
      const folds: { title: string; lines: string[] }[] = [];
      let open: { title: string; lines: string[] } | undefined;
      for (const line of main.log) {
        if (line.startsWith('##[group]')) folds.push((open = { title: line.slice(9), lines: [] }));
        else if (line === '##[endgroup]') open = undefined;
        // The runner echoes the stop-commands guard's own lines; they are not output.
        else if (open && !/^::[^:\s]*::/.test(line)) open.lines.push(line);
      }
      const shardFolds = folds.filter((f) => /^shard \d of 3: /.test(f.title));
      expect(shardFolds.map((f) => f.title)).toEqual([
        'shard 1 of 3: 3 item(s), item_0 to item_2',
        'shard 2 of 3: 2 item(s), item_3 to item_4',
        'shard 3 of 3: 2 item(s), item_5 to item_6',
      ]);
      shardFolds.forEach((fold, index) => {
        expect(fold.lines.length).toBeGreaterThan(5);
        expect(fold.lines.filter((line) => !line.startsWith(`[shard ${index + 1}/3] `))).toEqual(
          [],
        );
        expect(fold.lines.some((line) => line.includes('Map phase completed'))).toBe(true);
        // Each shard's pod runs as that shard: its commits land on the shard's own branch.
        expect(fold.lines.filter((line) => line.includes("neither the run's own"))).toEqual([]);
      });

      for (const name of ['one', 'two', 'three', 'four', 'five', 'six', 'seven']) {
        expect(readFileSync(path.join(repo, `item-${name}.txt`), 'utf8')).toBe(`${name}\n`);
      }
      expect(readFileSync(path.join(repo, 'map-totals.txt'), 'utf8')).toBe(
        'total=7 successful=7 failed=0\n',
      );
      expect(git(repo, 'status', '--porcelain')).toBe('');
      expect(post?.exitCode).toBe(0);
      const runId = main.state['run-id']!;
      if (runtime === 'docker') {
        expect(await leftovers(docker, runId)).toEqual([]);
      } else {
        // One Indexed Job ran the three shards, index i the shard i + 1, each index its own pod.
        const jobName = `prodigy-${runId}`;
        shardFolds.forEach((fold, index) => {
          expect(fold.lines).toContain(
            `[shard ${index + 1}/3] Index ${index} of Indexed Job ${jobName} runs this shard (3 at a time).`,
          );
          expect(
            fold.lines.some((line) =>
              new RegExp(`Pod ${jobName}-${index}-\\w+ finished: exit code 0`).test(line),
            ),
          ).toBe(true);
        });
        expect(clusterLeftovers(runId)).toBe('');
      }
    });

    it('on cancellation stops every shard, runs no reduce, and leaves nothing behind', async () => {
      const repo = origin();
      const slow = readFileSync(path.join(repo, 'sharded.yml'), 'utf8').replace(
        `- shell: "test '\${item.fail}' != yes"`,
        '- shell: "sleep 120"',
      );
      writeFileSync(path.join(repo, 'slow.yml'), slow);
      git(repo, 'add', 'slow.yml');
      git(repo, 'commit', '-qm', 'slow');
      const docker = groundDocker();
      const { main, post } = await runAction({
        actionDir: root,
        workspace: repo,
        env: { DOCKER_HOST: g.dockerHost },
        inputs: { ...runtimes[runtime], workflow: 'slow.yml', 'max-parallel': '3' },
        // Once every shard's workload is running.
        cancelAfterMs: runtime === 'docker' ? 12_000 : 25_000,
      });
      expect(main.outputs.status, main.lines.slice(-30).join('\n')).toBe('cancelled');
      expect(main.lines.some((line) => line.includes('Map phase over'))).toBe(false);
      expect(git(repo, 'log', '-1', '--format=%s')).toBe('slow');
      expect(post?.exitCode).toBe(0);
      const runId = main.state['run-id']!;
      if (runtime === 'docker') expect(await leftovers(docker, runId)).toEqual([]);
      else expect(clusterLeftovers(runId)).toBe('');
    });
  },
);

describe('matrix MapReduce with the artifact service (a local stand-in speaking its protocol)', () => {
  it('the plan, each shard and reduce trade their files as artifacts of the run', async () => {
    const service = await ArtifactService.start();
    try {
      const repo = origin();
      const inputs = { ...runtimes.docker, workflow: 'setup.yml' };
      const env = (job: string) => ({ DOCKER_HOST: g.dockerHost, ...service.envForJob(job) });

      const planned = await runAction({
        actionDir: path.join(root, 'plan'),
        workspace: cloneCheckout(repo),
        env: env('plan'),
        inputs: { ...inputs, shards: '2' },
      });
      expect(planned.main.exitCode, planned.main.lines.slice(-20).join('\n')).toBe(0);
      const matrix = JSON.parse(planned.main.outputs.matrix!) as { include: ShardEntry[] };
      const planArtifact = `cook-plan-${matrix.include[0]!.plan}`;
      expect(matrix.include.every((e) => e.artifact === planArtifact && e.setup)).toBe(true);
      const planZip = unzipSync(service.artifacts.find((a) => a.name === planArtifact)!.zip);
      expect(Object.keys(planZip).sort()).toEqual([
        'items-0.json',
        'items-1.json',
        'plan.json',
        'setup.bundle',
      ]);

      for (const [index, entry] of matrix.include.entries()) {
        // A map job runs on another machine: the plan's folder is not there, its artifact is.
        const elsewhere = { ...entry, dir: '/nonexistent/plan' };
        const { main } = await runAction({
          actionDir: root,
          workspace: cloneCheckout(repo),
          env: env(`map-${index}`),
          inputs: { ...inputs, shard: JSON.stringify(elsewhere) },
        });
        expect(main.exitCode, main.lines.slice(-20).join('\n')).toBe(0);
        expect(main.lines.some((l) => l.startsWith("Applied setup's commits from the plan"))).toBe(
          true,
        );
      }
      const resultNames = service.artifacts
        .map((a) => a.name)
        .filter((n) => n.startsWith('cook-results-'));
      expect(resultNames.sort()).toEqual([
        `cook-results-${matrix.include[0]!.plan}-1of2-a1`,
        `cook-results-${matrix.include[0]!.plan}-2of2-a1`,
      ]);
      const shardZip = unzipSync(service.artifacts.find((a) => a.name === resultNames[0])!.zip);
      expect(Object.keys(shardZip).sort()).toEqual(['results.json', 'shard.bundle']);
      const shardResults = JSON.parse(strFromU8(shardZip['results.json']!)) as {
        results: { item_id: string }[];
      };
      expect(shardResults.results.map((r) => r.item_id)).toEqual(['item_0', 'item_1']);

      const final = cloneCheckout(repo);
      const reduced = await runAction({
        actionDir: path.join(root, 'reduce'),
        workspace: final,
        env: env('reduce'),
        inputs,
      });
      expect(reduced.main.exitCode, reduced.main.lines.slice(-30).join('\n')).toBe(0);
      expect(reduced.main.lines).toContain(
        'Map phase over 2 shard(s): 3 successful, 0 failed (total: 3).',
      );
      for (const name of ['x', 'y', 'z']) {
        expect(readFileSync(path.join(final, `item-${name}.txt`), 'utf8')).toBe(
          `${name} tag-42 from-setup\n`,
        );
      }
    } finally {
      await service.close();
    }
  });
});
