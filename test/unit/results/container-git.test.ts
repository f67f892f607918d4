/**
 * The container's own git folder, with real git: what a workload does there as a container
 * would (git with GIT_DIR at the run's folder and the checkout's objects as alternates), and
 * what reaches the runner's checkout afterwards.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bringBackCommits,
  cleanConfig,
  prepareContainerGit,
} from '../../../src/results/container-git.js';
import { runGitIn } from '../../../src/results/git.js';
import { guardGitFiles } from '../../../src/results/git-guard.js';
import { git, gitWorkspace } from '../../support/workspace.js';

const OWN = 'cook/run-1';

/** git as the container runs it: the run's git folder, the checkout as its working tree. */
function inContainer(workspace: string, runGit: string, ...args: string[]): string {
  return execFileSync('git', ['-C', workspace, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_DIR: runGit,
      GIT_WORK_TREE: workspace,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(workspace, '.git', 'objects'),
      GIT_AUTHOR_NAME: 'agent',
      GIT_AUTHOR_EMAIL: 'agent@example.invalid',
      GIT_COMMITTER_NAME: 'agent',
      GIT_COMMITTER_EMAIL: 'agent@example.invalid',
    },
  }).trim();
}

async function setUp(options: { detached?: boolean; before?: (workspace: string) => void } = {}) {
  const workspace = gitWorkspace({ 'a.txt': 'a\n' }, options);
  options.before?.(workspace);
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'cook-run-'));
  const prepared = (await prepareContainerGit(workspace, runDir))!;
  const bringBack = () =>
    bringBackCommits(prepared, {
      workspace,
      runDir,
      ownBranch: OWN,
      limit: { bytes: 64 * 1024 * 1024, text: '64Mi' },
    });
  const container = (...args: string[]) => inContainer(workspace, prepared.folder, ...args);
  return { workspace, runDir, prepared, bringBack, container };
}

describe("the container's git folder", () => {
  it('starts where the checkout is, clean, and without the checkout’s credentials', async () => {
    const workspace = gitWorkspace({ 'a.txt': 'a\n' });
    git(
      workspace,
      'config',
      'http.https://github.com/.extraheader',
      'AUTHORIZATION: basic c2VjcmV0',
    );
    git(workspace, 'remote', 'add', 'origin', 'https://example.invalid/o/r.git');
    git(workspace, 'config', 'core.fsmonitor', '/tmp/evil');
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'cook-run-'));
    const prepared = (await prepareContainerGit(workspace, runDir))!;
    const config = readFileSync(path.join(prepared.folder, 'config'), 'utf8');
    expect(config).not.toMatch(/extraheader|c2VjcmV0|fsmonitor/);
    expect(config).toContain('https://example.invalid/o/r.git');
    expect(inContainer(workspace, prepared.folder, 'status', '--porcelain')).toBe('');
    expect(inContainer(workspace, prepared.folder, 'rev-parse', 'HEAD')).toBe(
      git(workspace, 'rev-parse', 'HEAD'),
    );
    expect(inContainer(workspace, prepared.folder, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(existsSync(path.join(prepared.folder, 'hooks'))).toBe(false);
  });

  it('cleanConfig keeps the format and remotes and drops every program and credential', () => {
    const listing = [
      'core.repositoryformatversion\n1',
      'core.bare\ntrue',
      'core.hooksPath\n/tmp/h',
      'core.sshCommand\nevil',
      'extensions.objectformat\nsha256',
      'remote.origin.url\nhttps://example.invalid/"q"',
      'remote.origin.fetch\n+refs/heads/*:refs/remotes/origin/*',
      'filter.lfs.smudge\nevil',
      'include.path\n/etc/passwd',
      'http.extraheader\nsecret',
    ].join('\0');
    const config = cleanConfig(listing);
    expect(config).toContain('repositoryformatversion = "1"');
    expect(config).toContain('bare = false');
    expect(config).toContain('objectformat = "sha256"');
    expect(config).toContain('url = "https://example.invalid/\\"q\\""');
    expect(config).not.toMatch(/hooksPath|sshCommand|smudge|include|secret|bare = "true"/);
  });

  it('brings commits on the checked-out branch back by fast-forward, index and all', async () => {
    const { workspace, container, bringBack } = await setUp();
    writeFileSync(path.join(workspace, 'b.txt'), 'b\n');
    container('add', 'b.txt');
    container('commit', '-q', '-m', 'agent work');
    const tip = container('rev-parse', 'HEAD');
    expect(await bringBack()).toEqual([]);
    expect(git(workspace, 'rev-parse', 'main')).toBe(tip);
    expect(git(workspace, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(git(workspace, 'status', '--porcelain')).toBe('');
  });

  it('brings the run’s own branch back and puts a detached checkout on it', async () => {
    const { workspace, container, bringBack } = await setUp({ detached: true });
    container('checkout', '-q', '-b', OWN);
    container('commit', '-q', '--allow-empty', '-m', 'on the run branch');
    const tip = container('rev-parse', 'HEAD');
    expect(await bringBack()).toEqual([]);
    expect(git(workspace, 'symbolic-ref', 'HEAD')).toBe(`refs/heads/${OWN}`);
    expect(git(workspace, 'rev-parse', 'HEAD')).toBe(tip);
  });

  it('moves a detached checkout forward to where the container left HEAD', async () => {
    const { workspace, container, bringBack } = await setUp({ detached: true });
    container('commit', '-q', '--allow-empty', '-m', 'detached work');
    const tip = container('rev-parse', 'HEAD');
    expect(await bringBack()).toEqual([]);
    expect(git(workspace, 'rev-parse', 'HEAD')).toBe(tip);
    expect(() => git(workspace, 'symbolic-ref', '-q', 'HEAD')).toThrow();
    expect(git(workspace, 'for-each-ref', 'refs/cook-import')).toBe('');
  });

  it('brings new Prodigy session branches back, but no other branch, tag or HEAD move', async () => {
    const {
      workspace,
      container: c,
      bringBack,
    } = await setUp({
      before: (workspace) => {
        git(workspace, 'branch', 'release');
        git(workspace, 'tag', 'v1');
      },
    });
    const before = git(workspace, 'for-each-ref', '--format=%(refname) %(objectname)');
    c('checkout', '-q', '-b', 'prodigy-session-abc');
    c('commit', '-q', '--allow-empty', '-m', 'session work');
    const session = c('rev-parse', 'HEAD');
    c('branch', '-f', 'release', 'HEAD');
    c('tag', '-f', 'v1', 'HEAD');
    c('checkout', '-q', '-b', 'elsewhere');
    const notes = await bringBack();
    expect(git(workspace, 'rev-parse', 'prodigy-session-abc')).toBe(session);
    const after = git(workspace, 'for-each-ref', '--format=%(refname) %(objectname)')
      .split('\n')
      .filter((line) => !line.startsWith('refs/heads/prodigy-session-abc '))
      .join('\n');
    expect(after).toBe(before);
    expect(git(workspace, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(notes.join('\n')).toMatch(/moved branch release.*left as it was/);
    expect(notes.join('\n')).toMatch(/moved branch elsewhere.*left as it was/);
    expect(git(workspace, 'branch', '--list', 'elsewhere')).toBe('');
  });

  it('never forces the checked-out branch: a rewritten history is left out and said so', async () => {
    const { workspace, container, bringBack } = await setUp();
    const original = git(workspace, 'rev-parse', 'HEAD');
    container('commit', '-q', '--amend', '--allow-empty', '-m', 'rewritten');
    // A branch that may come back, beside the one that may not: the refusal costs only main.
    container('branch', 'prodigy-session-ok', 'HEAD');
    const notes = await bringBack();
    expect(git(workspace, 'rev-parse', 'main')).toBe(original);
    expect(notes.join('\n')).toMatch(/branch main was not brought back/);
    expect(git(workspace, 'rev-parse', 'prodigy-session-ok')).toBe(container('rev-parse', 'HEAD'));
  });

  it('reads refs and objects as files: links and strange names are not followed', async () => {
    const { workspace, container, prepared, bringBack } = await setUp();
    container('commit', '-q', '--allow-empty', '-m', 'work');
    // A ref that is a link to a runner file, and an object folder that is a link out.
    symlinkSync('/etc/hostname', path.join(prepared.folder, 'refs', 'heads', 'prodigy-session-x'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'cook-outside-'));
    symlinkSync(outside, path.join(prepared.folder, 'objects', 'ff'));
    const notes = await bringBack();
    expect(notes.join('\n')).toMatch(/symbolic link/);
    expect(git(workspace, 'branch', '--list', 'prodigy-session-x')).toBe('');
    expect(git(workspace, 'rev-parse', 'main')).toBe(container('rev-parse', 'HEAD'));
  });

  it('refuses commits over the transfer-limit', async () => {
    const { workspace, prepared, container } = await setUp();
    writeFileSync(path.join(workspace, 'big.bin'), Buffer.alloc(200_000, 7));
    container('add', 'big.bin');
    container('commit', '-q', '-m', 'big');
    const runDir = path.dirname(prepared.folder);
    await expect(
      bringBackCommits(prepared, {
        workspace,
        runDir,
        ownBranch: OWN,
        limit: { bytes: 100, text: '100 bytes' },
      }),
    ).rejects.toThrow(/over the transfer-limit of 100 bytes: raise the input 'transfer-limit'/);
  });

  it('reports configuration and hooks the workload planted, which stay in its folder', async () => {
    const { workspace, container, prepared, bringBack } = await setUp();
    container('config', 'core.fsmonitor', '/tmp/evil');
    mkdirSync(path.join(prepared.folder, 'hooks'));
    writeFileSync(path.join(prepared.folder, 'hooks', 'post-merge'), '#!/bin/sh\n');
    const notes = (await bringBack()).join('\n');
    expect(notes).toMatch(/changed the git configuration of its container/);
    expect(notes).toMatch(/git hooks in its container \(post-merge\)/);
    expect(() => git(workspace, 'config', '--get', 'core.fsmonitor')).toThrow();
  });

  it('refuses a workspace whose .git is a file, naming it', async () => {
    const workspace = gitWorkspace({ 'a.txt': 'a\n' });
    const linked = path.join(mkdtempSync(path.join(os.tmpdir(), 'cook-wt-')), 'wt');
    git(workspace, 'worktree', 'add', '-q', linked);
    await expect(
      prepareContainerGit(linked, mkdtempSync(path.join(os.tmpdir(), 'r-'))),
    ).rejects.toThrow(/\.git is not a folder.*regular clone/);
  });
});

describe('the checkout’s own git files', () => {
  it('puts configuration and hooks back and removes a planted nested .git', async () => {
    const workspace = gitWorkspace({ 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
    const config = readFileSync(path.join(workspace, '.git', 'config'), 'utf8');
    writeFileSync(path.join(workspace, 'vendored.git-file'), 'x');
    mkdirSync(path.join(workspace, 'mod'));
    writeFileSync(path.join(workspace, 'mod', '.git'), 'gitdir: ../.git/modules/mod\n');
    const guard = await guardGitFiles(workspace);

    git(workspace, 'config', 'core.fsmonitor', '/tmp/evil');
    writeFileSync(path.join(workspace, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\nid\n');
    chmodSync(path.join(workspace, '.git', 'hooks', 'post-checkout'), 0o755);
    // A hook that is a link to a program elsewhere runs as well as a file would.
    symlinkSync(
      path.join(workspace, 'evil.sh'),
      path.join(workspace, '.git', 'hooks', 'pre-commit'),
    );
    mkdirSync(path.join(workspace, 'sub', '.git'));
    writeFileSync(
      path.join(workspace, 'sub', '.git', 'config'),
      '[core]\n\tfsmonitor = /tmp/evil\n',
    );
    writeFileSync(path.join(workspace, 'mod', '.git'), 'gitdir: /etc\n');

    const notes = (await guard.restore()).join('\n');
    expect(readFileSync(path.join(workspace, '.git', 'config'), 'utf8')).toBe(config);
    expect(existsSync(path.join(workspace, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(readdirSync(path.join(workspace, '.git', 'hooks'))).not.toContain('pre-commit');
    expect(existsSync(path.join(workspace, 'sub', '.git'))).toBe(false);
    expect(readFileSync(path.join(workspace, 'mod', '.git'), 'utf8')).toBe(
      'gitdir: ../.git/modules/mod\n',
    );
    expect(notes).toMatch(/\.git\/config/);
    expect(notes).toMatch(/hooks\/post-checkout/);
    expect(notes).toMatch(/made sub\/\.git.*removed/);
    expect(notes).toMatch(/changed mod\/\.git/);
    expect(await guard.restore()).toEqual([]);
  });
});

describe('git on the runner', () => {
  it('runs no hook and no fsmonitor program, whatever the repository says', async () => {
    const workspace = gitWorkspace({ 'a.txt': 'a\n' });
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'cook-marker-')), 'ran');
    const program = path.join(workspace, '.git', 'evil.sh');
    writeFileSync(program, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(program, 0o755);
    git(workspace, 'config', 'core.fsmonitor', program);
    writeFileSync(
      path.join(workspace, '.git', 'hooks', 'reference-transaction'),
      `#!/bin/sh\ntouch ${marker}\n`,
    );
    chmodSync(path.join(workspace, '.git', 'hooks', 'reference-transaction'), 0o755);

    await runGitIn(workspace, ['status', '--porcelain']);
    await runGitIn(workspace, ['branch', 'x']);
    expect(existsSync(marker)).toBe(false);
    // The same commands without the hardening do run them: the test can fail.
    git(workspace, 'status', '--porcelain');
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    git(workspace, 'branch', 'y');
    expect(existsSync(marker)).toBe(true);
  });
});
