/**
 * The run's artifact against the artifact-service stand-in, in-process: what is staged, what
 * reaches the service (unzipped and read back), what never leaves the workspace, and what happens
 * without a service.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  artifactName,
  publishRunArtifact,
  type RunArtifactSettings,
} from '../../src/report/run-artifact.js';
import { resolveArtifactGlobs } from '../../src/report/artifact-globs.js';
import { ArtifactService } from '../support/artifact-service.js';
import { Masker } from '../../src/logs/masker.js';

const made: string[] = [];
const noMask = (data: Buffer) => data;
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function put(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
}

/** A workspace with files, git internals, and links in and out of it. */
function workspaceFixture(): string {
  const workspace = tempDir('cook-artifact-ws-');
  put(workspace, {
    'out/report.txt': 'report\n',
    'out/deep/data.csv': 'a,b\n1,2\n',
    'out/deep/noise.log': 'noise\n',
    'out/.hidden': 'dotfile\n',
    'out/.git/HEAD': 'nested git\n',
    'top.md': '# top\n',
    'notes/keep.txt': 'keep\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
    '.git/config': '[core]\n',
    'src/main.ts': 'export {};\n',
  });
  symlinkSync('/etc', path.join(workspace, 'etc'));
  symlinkSync('/etc/hostname', path.join(workspace, 'out', 'hostname'));
  symlinkSync('report.txt', path.join(workspace, 'out', 'report-link.txt'));
  symlinkSync('../.git/config', path.join(workspace, 'out', 'git-config'));
  return workspace;
}

describe('resolveArtifactGlobs', () => {
  let workspace: string;
  beforeEach(() => {
    workspace = workspaceFixture();
  });

  it('refuses every pattern that reaches outside the workspace, and says why', async () => {
    const patterns = [
      '/etc/passwd',
      '../x',
      'a/../../x',
      'out/../../x',
      '{..,out}/x',
      '~/.ssh/id_rsa',
      'C:\\Windows\\win.ini',
      '\\etc\\passwd',
      'etc',
      'etc/*',
      'etc/passwd',
      '.git/config',
    ];
    const resolved = await resolveArtifactGlobs(workspace, patterns);
    expect(resolved.files).toEqual([]);
    expect(resolved.refused.map((r) => r.pattern)).toEqual(patterns);
    const why = Object.fromEntries(resolved.refused.map((r) => [r.pattern, r.why]));
    expect(why['/etc/passwd']).toMatch(/absolute path/);
    expect(why['../x']).toMatch(/'\.\.'/);
    expect(why['a/../../x']).toMatch(/'\.\.'/);
    expect(why['~/.ssh/id_rsa']).toMatch(/home-folder/);
    expect(why['C:\\Windows\\win.ini']).toMatch(/drive/);
    expect(why['etc/*']).toMatch(/etc is a symlink to \/etc, outside the workspace/);
    expect(why['etc']).toMatch(/outside the workspace/);
    expect(why['.git/config']).toMatch(/\.git is never uploaded/);
  });

  it('takes a folder recursively, with dotfiles, never .git, dropping links that lead out', async () => {
    const resolved = await resolveArtifactGlobs(workspace, ['out/', 'top.md', '', '# comment']);
    expect(resolved.files).toEqual([
      'out/.hidden',
      'out/deep/data.csv',
      'out/deep/noise.log',
      'out/report-link.txt',
      'out/report.txt',
      'top.md',
    ]);
    expect(resolved.refused).toEqual([
      { pattern: 'out/', why: expect.stringMatching(/out\/git-config leads into \.git/) },
      {
        pattern: 'out/',
        why: expect.stringMatching(/^out\/hostname is a symlink to \/etc\/hostname, outside/),
      },
    ]);
    expect(resolved.unmatched).toEqual([]);
  });

  it('never follows a directory symlink out while globbing the whole workspace', async () => {
    const resolved = await resolveArtifactGlobs(workspace, ['**']);
    expect(resolved.files.some((f) => f.startsWith('etc/'))).toBe(false);
    expect(resolved.files.some((f) => f.split('/').includes('.git'))).toBe(false);
    expect(resolved.files).toContain('src/main.ts');
    expect(resolved.files).toContain('out/deep/data.csv');
    expect(resolved.refused.map((r) => r.why).join('\n')).toMatch(/^etc is a symlink to \/etc/m);
  });

  it('applies ! exclusions, de-duplicates, sorts, and notes patterns that matched nothing', async () => {
    const resolved = await resolveArtifactGlobs(workspace, [
      'out',
      'out/**/*.csv',
      '!out/deep/*.log',
      '!**/.hidden',
      '!out/hostname',
      '!out/git-config',
      'nothing/*.xyz',
    ]);
    expect(resolved.files).toEqual(['out/deep/data.csv', 'out/report-link.txt', 'out/report.txt']);
    expect(resolved.refused).toEqual([]);
    expect(resolved.unmatched).toEqual(['nothing/*.xyz']);
  });

  it('excludes a whole folder named by a ! line', async () => {
    const resolved = await resolveArtifactGlobs(workspace, ['out/**', 'notes/*', '!out/deep']);
    expect(resolved.files).not.toContain('out/deep/data.csv');
    expect(resolved.files).toContain('out/report.txt');
    expect(resolved.files).toContain('notes/keep.txt');
  });

  it('ends in a symlink loop inside the workspace', async () => {
    const looped = tempDir('cook-artifact-loop-');
    put(looped, { 'a/file.txt': 'x' });
    symlinkSync('..', path.join(looped, 'a', 'up'));
    const resolved = await resolveArtifactGlobs(looped, ['a']);
    expect(resolved.files).toContain('a/file.txt');
    expect(resolved.files.length).toBeLessThan(10);
  });
});

describe('artifactName', () => {
  const github = { artifactService: true, job: 'map', runAttempt: '3' };

  it('is the artifact-name input when given', () => {
    expect(artifactName({ artifactName: 'my-logs', github })).toBe('my-logs');
  });

  it('is unique per job, shard and attempt', () => {
    expect(artifactName({ github, shard: { name: 'shard 2 of 8', shard: 1 } })).toBe(
      'cook-map-shard-2-of-8-a3',
    );
    expect(artifactName({ github })).toBe('cook-map-a3');
    expect(artifactName({ github: { artifactService: false } })).toBe('cook-run-a1');
  });

  it('keeps to characters the artifact service accepts, and to 200 of them', () => {
    const name = artifactName({
      github: { artifactService: true, job: 'build:"x"', runAttempt: '2' },
      shard: { name: 'a/b\\c<d>|e*f?g\r\nh'.repeat(30), shard: 4 },
    });
    expect(name).not.toMatch(/[":<>|*?\r\n\\/]/);
    expect(name.length).toBeLessThanOrEqual(200);
    expect(name).toMatch(/^cook-build-x-a-b-c-d-e-f-g-h/);
    expect(name).toMatch(/-a2$/);
    expect(artifactName({ github, shard: { name: '東京', shard: 4 } })).toBe('cook-map-shard-5-a3');
  });
});

describe('publishRunArtifact', () => {
  let service: ArtifactService;
  const keys = [
    'ACTIONS_RUNTIME_TOKEN',
    'ACTIONS_RESULTS_URL',
    'GITHUB_RETENTION_DAYS',
    'GITHUB_SERVER_URL',
  ];
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    service = await ArtifactService.start();
  });
  afterAll(async () => {
    await service.close();
  });
  beforeEach(() => {
    for (const key of keys) {
      saved[key] = process.env[key];
      delete process.env[key];
    }
    Object.assign(process.env, service.envForJob('map'));
  });
  afterEach(() => {
    for (const key of keys) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  function announcer() {
    const said = { note: [] as string[], notice: [] as string[], warning: [] as string[] };
    return {
      said,
      announce: {
        note: (m: string) => said.note.push(m),
        notice: (m: string) => said.notice.push(m),
        warning: (m: string) => said.warning.push(m),
      },
    };
  }

  /** A finished run: its log, Prodigy's records (worktrees too), a results file. */
  function runFixture(overrides: Partial<RunArtifactSettings> = {}): RunArtifactSettings {
    const workspace = workspaceFixture();
    const runDir = tempDir('cook-artifact-run-');
    const log = 'line one\nline two\n'.repeat(500);
    put(runDir, {
      'output.log': log,
      'results.json': '{"results":[{"item_id":"item_0"}]}\n',
      'prodigy-home/events/repo/job-1/events-2024.jsonl': '{"event":"started"}\n',
      'prodigy-home/state/repo/mapreduce/jobs/job-1/checkpoint.json': '{"done":3}\n',
      'prodigy-home/dlq/repo/job-1/items.json': '[]\n',
      'prodigy-home/logs/claude/session.json': '{"turns":2}\n',
      'prodigy-home/worktrees/repo/session-1/src/main.ts': 'checked out\n',
      'prodigy-home/worktrees/repo/session-1/.git': 'gitdir: elsewhere\n',
      'prodigy-home/state/repo/worktrees/session-1/file.txt': 'nested worktree\n',
      'prodigy-home/state/repo/.git/HEAD': 'nope\n',
    });
    symlinkSync('/etc/hostname', path.join(runDir, 'prodigy-home', 'logs', 'host-link'));
    return {
      workspace,
      runDir,
      logPath: path.join(runDir, 'output.log'),
      artifacts: ['out', '!out/**/*.log', 'top.md', 'etc/passwd', '../secret', 'missing/*.txt'],
      shard: { name: 'shard 2 of 8', shard: 1 },
      retentionDays: 5,
      transferLimit: { bytes: 64 * 1024 ** 2, text: '64Mi' },
      github: { artifactService: true, job: 'map', runAttempt: '3' },
      ...overrides,
    };
  }

  it('uploads one artifact with the log, metrics, results, summary, records and globbed files', async () => {
    const settings = runFixture();
    const { said, announce } = announcer();
    const before = Date.now();
    const published = await publishRunArtifact(
      settings,
      {
        metrics: { duration_seconds: 12.5, exit_code: 0 },
        resultsFile: path.join(settings.runDir, 'results.json'),
        summaryOverflow: '# The whole summary\n\n| a | b |\n',
        mask: noMask,
      },
      announce,
    );

    expect(published.name).toBe('cook-map-shard-2-of-8-a3');
    const stored = service.artifacts.filter((a) => a.name === published.name);
    expect(stored).toHaveLength(1);
    expect(published.id).toBe(stored[0]!.id);
    expect(published.dir).toBe(path.join(settings.runDir, 'artifact'));

    const zip = unzipSync(stored[0]!.zip);
    const names = Object.keys(zip).sort();
    expect(names).toEqual([
      'cook/metrics.json',
      'cook/output.log',
      'cook/results.json',
      'cook/summary.md',
      'prodigy/dlq/repo/job-1/items.json',
      'prodigy/events/repo/job-1/events-2024.jsonl',
      'prodigy/logs/claude/session.json',
      'prodigy/state/repo/mapreduce/jobs/job-1/checkpoint.json',
      'workspace/out/.hidden',
      'workspace/out/deep/data.csv',
      'workspace/out/report-link.txt',
      'workspace/out/report.txt',
      'workspace/top.md',
    ]);
    expect(published.files).toBe(names.length);
    const text = (name: string) => strFromU8(zip[name]!);
    expect(text('cook/output.log')).toBe(readFileSync(settings.logPath, 'utf8'));
    expect(zip['cook/output.log']!.length).toBe(statSync(settings.logPath).size);
    expect(JSON.parse(text('cook/metrics.json'))).toEqual({ duration_seconds: 12.5, exit_code: 0 });
    expect(text('cook/results.json')).toBe('{"results":[{"item_id":"item_0"}]}\n');
    expect(text('cook/summary.md')).toBe('# The whole summary\n\n| a | b |\n');
    expect(text('prodigy/state/repo/mapreduce/jobs/job-1/checkpoint.json')).toBe('{"done":3}\n');
    expect(text('workspace/out/deep/data.csv')).toBe('a,b\n1,2\n');
    expect(text('workspace/out/report-link.txt')).toBe('report\n');
    expect(published.bytes).toBe(
      Object.values(zip).reduce((sum, content) => sum + content.length, 0),
    );

    // Retention reaches the service as an expiry: now + 5 days.
    const expires = Date.parse(stored[0]!.expiresAt ?? '');
    const day = 24 * 3600 * 1000;
    expect(expires).toBeGreaterThanOrEqual(before + 5 * day - 2 * 3600 * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 5 * day + 2 * 3600 * 1000);

    expect(said.warning.join('\n')).toMatch(/'etc\/passwd'.*outside the workspace/);
    expect(said.warning.join('\n')).toMatch(/'\.\.\/secret'.*'\.\.'/);
    expect(said.warning.join('\n')).toMatch(/'out'.*out\/hostname is a symlink to \/etc\/hostname/);
    expect(said.note).toContain(
      "The artifacts pattern 'missing/*.txt' matched no file in the workspace.",
    );
    expect(said.note.join('\n')).toMatch(
      new RegExp(`Uploaded artifact cook-map-shard-2-of-8-a3 \\(${names.length} files, .+\\)`),
    );
    expect(said.notice).toEqual([]);
  });

  it('sends no expiry without retention days, and names the artifact as told', async () => {
    const settings = runFixture({ retentionDays: undefined, artifactName: 'given-name' });
    // Characters the service refuses in paths would fail the whole upload: they are replaced.
    put(settings.workspace, { 'out/at 12:00?.txt': 'noon\n' });
    put(settings.runDir, { 'prodigy-home/events/repo/2024-01-01T10:00:00.jsonl': '{}\n' });
    const { said, announce } = announcer();
    const published = await publishRunArtifact(settings, { metrics: {}, mask: noMask }, announce);
    expect(published.name).toBe('given-name');
    const stored = service.artifacts.find((a) => a.id === published.id)!;
    expect(stored.name).toBe('given-name');
    expect(stored.expiresAt).toBeUndefined();
    const zip = unzipSync(stored.zip);
    expect(Object.keys(zip)).not.toContain('cook/results.json');
    expect(Object.keys(zip)).not.toContain('cook/summary.md');
    expect(strFromU8(zip['workspace/out/at 12_00_.txt']!)).toBe('noon\n');
    expect(Object.keys(zip)).toContain('prodigy/events/repo/2024-01-01T10_00_00.jsonl');
    expect(said.note.join('\n')).toMatch(
      /workspace\/out\/at 12:00\?\.txt .* as workspace\/out\/at 12_00_\.txt/,
    );
  });

  it('throws, naming the artifact and the service’s message, when the upload fails', async () => {
    const settings = runFixture({ artifactName: 'taken-name' });
    await publishRunArtifact(settings, { metrics: {}, mask: noMask }, announcer().announce);
    await expect(
      publishRunArtifact(
        runFixture({ artifactName: 'taken-name' }),
        { metrics: {}, mask: noMask },
        announcer().announce,
      ),
    ).rejects.toThrow(/artifact taken-name.*already exists/);
  });

  it('masks every secret in what it uploads, and reads no file through a link or a FIFO', async () => {
    const secret = 'hunter2-s3cr3t-value';
    const masker = new Masker();
    masker.add(secret);
    const settings = runFixture({ artifacts: ['out'], artifactName: 'masked' });
    const home = path.join(settings.runDir, 'prodigy-home');
    // What a workload that saw the secret would leave: in Prodigy's records, in a text file and
    // in a binary one of the workspace, base64-encoded too.
    writeFileSync(path.join(home, 'events', 'leak.jsonl'), `{"env":"${secret}"}\n`);
    writeFileSync(
      path.join(settings.workspace, 'out', 'dump.bin'),
      Buffer.concat([Buffer.from([0, 0xff, 0xfe]), Buffer.from(secret), Buffer.from([0x80])]),
    );
    writeFileSync(
      path.join(settings.workspace, 'out', 'b64.txt'),
      Buffer.from(`token ${secret}`).toString('base64'),
    );
    // And what it would plant to read the runner's files: links and a FIFO among the records.
    symlinkSync('/proc/self/environ', path.join(home, 'events', 'environ.jsonl'));
    execFileSync('mkfifo', [path.join(home, 'events', 'pipe.jsonl')]);
    const { announce } = announcer();
    const published = await publishRunArtifact(
      settings,
      { metrics: { note: `metrics ${secret}` }, mask: (d) => masker.maskBytes(d) },
      announce,
    );
    const zip = unzipSync(service.artifacts.find((a) => a.name === published.name)!.zip);
    const everything = Buffer.concat(Object.values(zip).map((bytes) => Buffer.from(bytes)));
    expect(everything.includes(Buffer.from(secret))).toBe(false);
    expect(strFromU8(zip['prodigy/events/leak.jsonl']!)).toBe('{"env":"***"}\n');
    expect(Buffer.from(zip['workspace/out/dump.bin']!)).toEqual(
      Buffer.concat([Buffer.from([0, 0xff, 0xfe]), Buffer.from('***'), Buffer.from([0x80])]),
    );
    expect(strFromU8(zip['workspace/out/b64.txt']!)).not.toContain(
      Buffer.from(secret).toString('base64').slice(0, 20),
    );
    expect(strFromU8(zip['cook/metrics.json']!)).toContain('metrics ***');
    expect(Object.keys(zip)).not.toContain('prodigy/events/environ.jsonl');
    expect(Object.keys(zip)).not.toContain('prodigy/events/pipe.jsonl');
    expect(everything.toString('latin1')).not.toContain('PATH=');
  });

  it('leaves out what would pass the transfer-limit, naming the input', async () => {
    const settings = runFixture({
      artifacts: ['out'],
      artifactName: 'bounded',
      transferLimit: { bytes: 1024 ** 2, text: '1Mi' },
    });
    writeFileSync(path.join(settings.workspace, 'out', 'big.bin'), Buffer.alloc(2 * 1024 ** 2));
    const { said, announce } = announcer();
    const published = await publishRunArtifact(settings, { metrics: {}, mask: noMask }, announce);
    const zip = unzipSync(service.artifacts.find((a) => a.name === published.name)!.zip);
    expect(Object.keys(zip)).not.toContain('workspace/out/big.bin');
    expect(Object.keys(zip)).toContain('workspace/out/report.txt');
    expect(said.warning.join('\n')).toContain(
      "Left workspace/out/big.bin out of artifact bounded: the artifact would pass the transfer-limit of 1Mi: raise the input 'transfer-limit' to keep it.",
    );
  });

  it('uploads nothing without an artifact service and says where the files stay', async () => {
    const settings = runFixture({
      github: { artifactService: false, job: 'solo', runAttempt: '1' },
      shard: undefined,
    });
    const count = service.artifacts.length;
    const { said, announce } = announcer();
    const published = await publishRunArtifact(
      settings,
      { metrics: { a: 1 }, mask: noMask },
      announce,
    );
    expect(service.artifacts.length).toBe(count);
    expect(published.id).toBeUndefined();
    expect(published.name).toBe('cook-solo-a1');
    expect(said.notice).toHaveLength(1);
    expect(said.notice[0]).toContain(published.dir);
    const dir = published.dir;
    expect(readFileSync(path.join(dir, 'cook', 'output.log'), 'utf8')).toBe(
      readFileSync(settings.logPath, 'utf8'),
    );
    expect(
      existsSync(path.join(dir, 'prodigy', 'events', 'repo', 'job-1', 'events-2024.jsonl')),
    ).toBe(true);
    expect(existsSync(path.join(dir, 'prodigy', 'worktrees'))).toBe(false);
    expect(existsSync(path.join(dir, 'workspace', 'out', 'report.txt'))).toBe(true);
    expect(existsSync(path.join(dir, 'workspace', 'out', 'hostname'))).toBe(false);
    expect(published.files).toBe(11);
  });
});
