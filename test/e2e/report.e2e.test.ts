/**
 * What a person sees after a run: the job summary as GitHub would render it (GFM, then headless
 * Chromium, Mermaid included), the artifact as the artifact service received it, and the
 * pull-request comment as the REST API received it. The committed bundle runs through the
 * runner harness against the real Docker engine and the real Prodigy.
 *
 * COOK_SCREENSHOTS=<folder> keeps the screenshots there (docs/ holds two of them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../harness/runner.js';
import { ArtifactService } from '../support/artifact-service.js';
import { GitHubApi } from '../support/github-api.js';
import { ground } from '../support/ground.js';
import { closeRenderer, renderSummary } from '../support/render.js';
import { gitWorkspace, tempWorkspace } from '../support/workspace.js';

const g = ground();
const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/fixtures');
const shots = process.env.COOK_SCREENSHOTS
  ? path.resolve(process.env.COOK_SCREENSHOTS)
  : mkdtempSync(path.join(os.tmpdir(), 'cook-shots-'));

let service: ArtifactService;
let api: GitHubApi;
beforeAll(async () => {
  service = await ArtifactService.start();
  api = await GitHubApi.start({ repository: 'octo-org/hello-world' });
});
afterAll(async () => {
  await closeRenderer();
  await service.close();
  await api.close();
});

/** A pull_request job whose artifacts and comments go to the stand-ins. */
function prJob(job: string, pullRequest: number) {
  api.openPullRequest(pullRequest);
  return {
    env: {
      DOCKER_HOST: g.dockerHost,
      ...service.envForJob(job),
      GITHUB_JOB: job,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_API_URL: api.url,
      GITHUB_REPOSITORY: api.repository,
      GITHUB_WORKFLOW: `cook ${job}`,
    },
    event: { pull_request: { number: pullRequest } },
    githubToken: api.token,
  };
}

function unzipped(id: number): Record<string, string> {
  const stored = service.artifacts.find((a) => a.id === id);
  if (!stored) throw new Error(`no artifact ${id} arrived`);
  return Object.fromEntries(
    Object.entries(unzipSync(stored.zip)).map(([name, data]) => [
      name,
      Buffer.from(data).toString('utf8'),
    ]),
  );
}

describe('reports of a run', () => {
  it('a passing Prodigy run: the summary, the artifact and the pull-request comment', async () => {
    const workspace = gitWorkspace({
      'standard.yml': readFileSync(path.join(fixtures, 'workflows/standard.yml'), 'utf8'),
      'notes/keep.txt': 'kept\n',
      'notes/skip.tmp': 'not kept\n',
    });
    const inputs = {
      workflow: 'standard.yml',
      image: g.prodigyImage,
      'pull-policy': 'never',
      artifacts: 'notes/**\n!notes/*.tmp\n../outside.txt',
      'retention-days': '5',
      comment: 'true',
    };
    const job = prJob('single', 7);
    const { main } = await runAction({ actionDir: root, workspace, inputs, ...job });
    expect(main.exitCode, main.lines.slice(-30).join('\n')).toBe(0);

    // The metrics output: units in the names.
    const metrics = JSON.parse(main.outputs.metrics!) as Record<string, unknown>;
    expect(metrics.cpu_seconds).toEqual(expect.any(Number));
    expect(metrics.memory_peak_bytes).toBeGreaterThan(1024 * 1024);
    expect(metrics.usage_source).toBe('cgroup');
    expect(metrics.cpu_seconds).toBeGreaterThan(0.05);
    for (const [key, value] of Object.entries(metrics)) {
      if (typeof value === 'number')
        expect(key).toMatch(/_(seconds|bytes|lines|usd|tokens|turns|sessions)$/);
    }

    // The artifact: log, metrics, Prodigy's records without worktrees, the globbed files only.
    const id = Number(main.outputs['artifact-id']);
    expect(
      id,
      [...main.log.slice(-15), JSON.stringify(main.annotations)].join('\n'),
    ).toBeGreaterThan(0);
    const stored = service.artifacts.find((a) => a.id === id)!;
    expect(stored.name).toBe('cook-single-a1');
    expect(stored.expiresAt).toBeDefined();
    const files = unzipped(id);
    const names = Object.keys(files);
    expect(names).toContain('cook/output.log');
    expect(names).toContain('workspace/notes/keep.txt');
    expect(names).not.toContain('workspace/notes/skip.tmp');
    expect(names.some((n) => n.startsWith('prodigy/'))).toBe(true);
    expect(names.filter((n) => /(^|\/)worktrees\//.test(n))).toEqual([]);
    expect(JSON.parse(files['cook/metrics.json']!)).toMatchObject({
      cpu_seconds: metrics.cpu_seconds,
    });
    expect(main.annotations.some((a) => a.message.includes("'../outside.txt'"))).toBe(true);

    // The summary, as a person sees it.
    const page = await renderSummary(main.summary, {
      screenshot: path.join(shots, 'summary-run.png'),
    });
    expect(page.text).toContain('✅ cook-action: standard.yml');
    const [head, resources, phases] = page.tables;
    expect(head![0]).toEqual(['Status', 'Runtime', 'Image', 'Duration', 'Exit code']);
    expect(head![1]).toEqual([
      '✅ succeeded',
      'docker',
      g.prodigyImage,
      expect.stringMatching(/ s$/),
      '0',
    ]);
    expect(resources![0]).toEqual([
      '',
      'CPU',
      'Peak memory',
      'Network in / out',
      'Disk read / write',
    ]);
    expect(resources![1]![1]).toMatch(/^\d+\.\d s$/);
    expect(resources![1]![2]).toMatch(/MiB$/);
    expect(phases![0]).toEqual(expect.arrayContaining(['Image pull', 'Start', 'Run', 'Cleanup']));
    expect(page.text).toContain('cook-single-a1');
    expect(page.text).toMatch(/Commits: 1 on /);

    // The comment: one per workflow, updated in place on the next run.
    const comments = () => api.comments(7).filter((c) => c.body.includes('cook-action:comment'));
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain('cook-action: standard.yml');
    expect(comments()[0]!.body).toContain('https://github.com/octo-org/hello-world/actions/runs/');
    const firstId = comments()[0]!.id;
    // "Re-run all jobs": a new attempt, in a fresh checkout.
    const again = await runAction({
      actionDir: root,
      workspace: gitWorkspace({
        'standard.yml': readFileSync(path.join(fixtures, 'workflows/standard.yml'), 'utf8'),
      }),
      inputs,
      ...job,
      env: { ...job.env, GITHUB_RUN_ATTEMPT: '2' },
    });
    expect(again.main.exitCode, again.main.lines.slice(-20).join('\n')).toBe(0);
    expect(service.artifacts.map((a) => a.name)).toContain('cook-single-a2');
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.id).toBe(firstId);
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('a MapReduce run with failures: the gantt, the items, the failures', async () => {
    // 60 items over three shards; three of them fail.
    const items = Array.from({ length: 60 }, (_, i) => ({
      name: `n${String(i).padStart(2, '0')}`,
      score: 60 - i,
      ...(i % 20 === 7 ? { fail: 'yes' } : {}),
    }));
    const workspace = gitWorkspace({
      'sharded.yml': readFileSync(path.join(fixtures, 'sharding/sharded.yml'), 'utf8'),
      'work.json': JSON.stringify({ items }),
    });
    const { main, post } = await runAction({
      actionDir: root,
      workspace,
      ...prJob('fanout', 8),
      inputs: {
        workflow: 'sharded.yml',
        image: g.prodigyImage,
        'pull-policy': 'never',
        'max-parallel': '3',
      },
    });
    expect(main.exitCode).toBe(1);
    expect(post?.exitCode).toBe(0);
    expect(main.outputs.status).toBe('failed');

    const metrics = JSON.parse(main.outputs.metrics!) as {
      items_total: number;
      items_failed: number;
      shards: { shard: number; cpu_seconds?: number; status: string }[];
      items: { item_id: string; status: string; duration_seconds?: number }[];
    };
    expect(metrics.items_total).toBe(60);
    expect(metrics.items_failed).toBe(3);
    expect(metrics.shards.map((s) => s.shard)).toEqual([1, 2, 3]);
    expect(metrics.shards.every((s) => typeof s.cpu_seconds === 'number')).toBe(true);
    expect(metrics.items).toHaveLength(60);
    expect(metrics.items.filter((i) => i.status === 'failed')).toHaveLength(3);

    // The artifact: the merged results, and every shard's own log and records.
    const files = Object.keys(unzipped(Number(main.outputs['artifact-id'])));
    expect(files).toEqual(
      expect.arrayContaining([
        'cook/output.log',
        'cook/metrics.json',
        'cook/results.json',
        'shards/1/output.log',
        'shards/2/output.log',
        'shards/3/output.log',
      ]),
    );
    for (const shard of [1, 2, 3]) {
      expect(files.some((f) => f.startsWith(`shards/${shard}/prodigy/`))).toBe(true);
    }
    expect(files.filter((f) => /(^|\/)worktrees\//.test(f))).toEqual([]);

    const page = await renderSummary(main.summary, {
      screenshot: path.join(shots, 'summary-mapreduce.png'),
    });
    expect(page.text).toContain('❌ cook-action: sharded.yml');
    expect(page.text).toContain('57 successful, 3 failed (total 60), in 3 shard(s)');
    // The gantt: one bar per shard, and the reduce.
    expect(page.diagrams).toHaveLength(1);
    for (const label of ['shard 1/3', 'shard 2/3', 'shard 3/3', 'reduce']) {
      expect(page.diagrams[0]!.text).toContain(label);
    }
    // The shards table, then the items: failures first, 50 rows, the rest folded away.
    const shardsTable = page.tables.find((t) => t[0]![0] === 'Shard')!;
    expect(shardsTable.map((row) => row[0])).toEqual(['Shard', '1/3', '2/3', '3/3', 'reduce']);
    expect(shardsTable[1]![1]).toBe('❌ failed');
    const itemTables = page.tables.filter((t) => t[0]![0] === 'Item');
    expect(itemTables[0]!.length).toBe(51);
    expect(itemTables[0]!.slice(1, 4).map((row) => row[2])).toEqual([
      '❌ failed',
      '❌ failed',
      '❌ failed',
    ]);
    expect(page.details).toHaveLength(1);
    expect(page.details[0]!.summary).toBe('10 more item(s)');
    expect(page.details[0]!.open).toBe(false);
    // Each failing shard's last lines are there to read.
    expect(page.text).toContain(
      'shard 1/3 failed: 1 of 20 item(s) failed. The last lines of its log:',
    );
    expect(main.summary).toContain('<pre>');
    expect(Buffer.byteLength(main.summary)).toBeLessThan(1024 * 1024);
  });

  it('a run printing a million lines still writes a summary under 1 MiB', async () => {
    const workspace = tempWorkspace();
    const { main } = await runAction({
      actionDir: root,
      workspace,
      env: { DOCKER_HOST: g.dockerHost },
      inputs: {
        command: `seq 1 1000000; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo '<b>not bold</b>'; exit 3`,
        image: g.busyboxImage,
        'pull-policy': 'never',
      },
    });
    expect(main.outputs.status).toBe('failed');
    expect(Buffer.byteLength(main.summary)).toBeLessThan(64 * 1024);
    const page = await renderSummary(main.summary);
    expect(page.text).toContain('❌ failed');
    expect(page.text).toContain('999999\n1000000');
    expect(page.text).toContain('<b>not bold</b>');
    expect(page.text).toContain('xxxx …');
  });
});

describe('reports outside GitHub (the command line)', () => {
  it('writes the summary to a file and keeps the artifact in a folder, saying where', () => {
    const workspace = tempWorkspace();
    writeFileSync(path.join(workspace, 'report.txt'), 'made\n');
    const cli = spawnSync(
      process.execPath,
      [
        path.join(root, 'dist/cli/index.js'),
        '--runtime',
        'local',
        '--command',
        'echo hello; exit 4',
        '--workspace',
        workspace,
        '--artifacts',
        'report.txt',
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } },
    );
    expect(cli.status).toBe(4);
    const summaryFile = /The summary is in (\S+summary\.md)\./.exec(cli.stderr)?.[1];
    expect(summaryFile, cli.stderr).toBeDefined();
    expect(readFileSync(summaryFile!, 'utf8')).toMatch(
      /\| ❌ failed \| local \| — \| [\d.]+ s \| 4 \|/,
    );
    const folder = /stay in (\S+)\.$/m.exec(cli.stderr)?.[1];
    expect(folder, cli.stderr).toBeDefined();
    expect(readFileSync(path.join(folder!, 'workspace/report.txt'), 'utf8')).toBe('made\n');
    expect(readFileSync(path.join(folder!, 'cook/output.log'), 'utf8')).toContain('hello');
    expect(JSON.parse(readFileSync(path.join(folder!, 'cook/metrics.json'), 'utf8'))).toMatchObject(
      { duration_seconds: expect.any(Number) },
    );
    expect(cli.stderr).toMatch(/^metrics=\{/m);
  });
});

// Keep the folder listing honest for whoever set COOK_SCREENSHOTS.
afterAll(() => {
  if (process.env.COOK_SCREENSHOTS) console.log(`screenshots: ${readdirSync(shots).join(', ')}`);
});
