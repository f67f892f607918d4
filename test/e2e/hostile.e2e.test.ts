/**
 * The workload is hostile, and so is the network under it: the committed bundle, through the
 * runner harness, against workloads that try each known way out of the container (SECURITY.md),
 * and against an engine whose connections are all cut during the run. What must hold is what a
 * user would check: the step's verdict, the outputs, every line once, secrets never shown, a
 * marker outside the workspace never written, refs that do not move, nothing left behind.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { runAction } from '../harness/runner.js';
import { ArtifactService } from '../support/artifact-service.js';
import { startCuttingProxy, type CuttingProxy } from '../support/cutting-proxy.js';
import { clusterLeftovers } from '../support/cluster.js';
import { groundDocker, leftovers } from '../support/docker.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace, tempWorkspace } from '../support/workspace.js';

const g = ground();
const actionDir = path.resolve(import.meta.dirname, '../..');
const docker = groundDocker();

const proxies: CuttingProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

describe('never green without a verdict', () => {
  it('on Docker: every engine connection cut twice, exit code 3 kept, every line once, nothing left', async () => {
    const proxy = await startCuttingProxy({ socketPath: g.dockerHost.replace(/^unix:\/\//, '') });
    proxies.push(proxy);
    const cuts: number[] = [];
    const timers = [2500, 5000].map((ms) => setTimeout(() => cuts.push(proxy.cutAll()), ms));
    try {
      const { main, post } = await runAction({
        actionDir,
        workspace: tempWorkspace(),
        env: { DOCKER_HOST: proxy.address },
        inputs: {
          // 80 lines over 8 seconds, then exit 3: the cuts land while it writes and waits.
          command:
            'i=1; while [ $i -le 80 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done; exit 3',
          image: g.busyboxImage,
          'pull-policy': 'never',
        },
      });
      // Both cuts found open connections: the wait and the followed log at least.
      expect(cuts).toHaveLength(2);
      expect(cuts.every((n) => n >= 2)).toBe(true);
      expect(main.outputs.status).toBe('failed');
      expect(main.outputs['exit-code']).toBe('3');
      expect(main.failed).toBe(true);
      const relayed = main.lines.filter((line) => /^line \d+$/.test(line));
      expect(relayed).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 1}`));
      expect(post?.exitCode).toBe(0);
      const runId = main.state['run-id'];
      expect(runId).toMatch(/^[0-9a-f]{10}$/);
      expect(await leftovers(docker, runId!)).toEqual([]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  });
});

describe('never green without a verdict, on the cluster', () => {
  it('every API connection cut twice (watch, log, exec): exit code 3 kept, every line once, nothing left', async () => {
    const server = /server: https:\/\/([^:\s]+):(\d+)/.exec(readFileSync(g.kubeconfig, 'utf8'));
    expect(server, 'the ground kubeconfig names its API server').not.toBeNull();
    const proxy = await startCuttingProxy({ host: server![1]!, port: Number(server![2]) });
    proxies.push(proxy);
    const kubeconfig = path.join(mkdtempSync(path.join(os.tmpdir(), 'cook-kube-')), 'config');
    writeFileSync(
      kubeconfig,
      readFileSync(g.kubeconfig, 'utf8').replace(server![0]!, `server: https://${proxy.address}`),
    );
    const cuts: number[] = [];
    const execCuts: number[] = [];
    const { main, post } = await runAction({
      actionDir,
      workspace: tempWorkspace({ 'in.txt': 'sent in\n' }),
      inputs: {
        runtime: 'kubernetes',
        'kubeconfig-path': kubeconfig,
        image: g.busyboxImage,
        'pull-policy': 'never',
        command:
          'cat in.txt; i=1; while [ $i -le 80 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done; exit 3',
      },
      // Cut when the workload is writing, and again a few seconds later.
      cancelWhen: (line) => {
        if (line === 'line 10' || line === 'line 50') cuts.push(proxy.cutAll());
        // After the last line the results come back over exec: cut while they do.
        if (line === 'line 80') {
          for (const ms of [300, 600, 900, 1200])
            setTimeout(() => execCuts.push(proxy.cutAll()), ms);
        }
        return false;
      },
    });
    expect(cuts).toHaveLength(2);
    expect(cuts.every((n) => n >= 1)).toBe(true);
    // The results came back after the exec connections carrying them were cut.
    expect(execCuts.some((n) => n >= 1)).toBe(true);
    expect(main.lines.join('\n')).toMatch(/Brought back what the run made from pod/);
    expect(main.outputs.status, main.lines.slice(-30).join('\n')).toBe('failed');
    expect(main.outputs['exit-code']).toBe('3');
    expect(main.lines).toContain('sent in');
    const relayed = main.lines.filter((line) => /^line \d+$/.test(line));
    expect(relayed).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 1}`));
    expect(post?.exitCode).toBe(0);
    expect(clusterLeftovers(main.state['run-id']!)).toBe('');
  });
});

describe('nothing the workload writes becomes a workflow command', () => {
  it("file names quoted in the action's own messages cannot set outputs", async () => {
    // '?' is refused by the artifact service, so each file is renamed and the rename is reported
    // with both names in a line of the action's own.
    const { main } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      env: { DOCKER_HOST: g.dockerHost },
      inputs: {
        command: [
          "printf x > 'a ##[set-output name=status;]succeeded?'",
          `printf x > "$(printf 'b\\r::set-output name=exit-code::0?')"`,
          `printf x > "$(printf 'c\\n::add-mask::line?')"`,
          'exit 1',
        ].join('; '),
        image: g.busyboxImage,
        'pull-policy': 'never',
        artifacts: '*',
      },
    });
    expect(main.outputs.status).toBe('failed');
    expect(main.outputs['exit-code']).toBe('1');
    const injected = main.commands.filter((c) => ['set-output', 'add-mask'].includes(c.name));
    expect(injected).toEqual([]);
    expect(main.lines.filter((l) => l.startsWith('Put ')).length).toBe(3);
  });
});

describe('secrets stay out of artifacts', () => {
  it('a workload that writes its secrets into files, plain and base64, uploads them masked', async () => {
    const service = await ArtifactService.start();
    try {
      const secret = 'sk-hostile-4b1d-secret';
      const { main } = await runAction({
        actionDir,
        workspace: tempWorkspace(),
        env: { DOCKER_HOST: g.dockerHost, ...service.envForJob('leak') },
        inputs: {
          command: [
            'mkdir -p out',
            'echo "key=$API_KEY" > out/env.txt',
            'printf "%s" "$API_KEY" | base64 > out/key.b64',
            'printf "\\000\\377%s\\200" "$API_KEY" > out/key.bin',
            'echo "the key is $API_KEY"',
          ].join('; '),
          image: g.busyboxImage,
          'pull-policy': 'never',
          secrets: `API_KEY=${secret}`,
          artifacts: 'out',
        },
      });
      expect(main.outputs.status).toBe('succeeded');
      const stored = service.artifacts.find((a) => String(a.id) === main.outputs['artifact-id']);
      expect(stored, 'the run uploaded its artifact').toBeDefined();
      const files = unzipSync(stored!.zip);
      expect(Object.keys(files)).toEqual(
        expect.arrayContaining([
          'cook/output.log',
          'workspace/out/env.txt',
          'workspace/out/key.bin',
        ]),
      );
      const everything = Buffer.concat(Object.values(files).map((f) => Buffer.from(f)));
      expect(everything.includes(Buffer.from(secret))).toBe(false);
      expect(everything.includes(Buffer.from(Buffer.from(secret).toString('base64')))).toBe(false);
      expect(Buffer.from(files['workspace/out/env.txt']!).toString()).toBe('key=***\n');
      expect(Buffer.from(files['cook/output.log']!).toString()).toContain('the key is ***');
    } finally {
      await service.close();
    }
  });
});

describe('the post step trusts only what main saved', () => {
  it('never runs an exec plugin from a clusters file the workload rewrote', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'cook-marker-')), 'pwned');
    const workspace = tempWorkspace({
      '.prodigy/kubernetes.yaml': `clusters:\n  ground:\n    kubeconfig_path: ${g.kubeconfig}\n`,
    });
    // The workload's version: the same cluster, now with a kubeconfig in the workspace whose
    // user gets its credentials from a plugin that writes the marker on the runner.
    const planted = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: c',
      '  cluster: {server: "https://127.0.0.1:1"}',
      'users:',
      '- name: u',
      '  user:',
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1',
      '      command: sh',
      `      args: [-c, "touch ${marker}; echo '{}'"]`,
      '      interactiveMode: Never',
      'contexts:',
      '- name: x',
      '  context: {cluster: c, user: u}',
      'current-context: x',
    ].join('\n');
    const { main, post } = await runAction({
      actionDir,
      workspace,
      inputs: {
        runtime: 'kubernetes',
        cluster: 'ground',
        image: g.busyboxImage,
        'pull-policy': 'never',
        command: [
          `cat > evil.yaml <<'EOF'\n${planted}\nEOF`,
          "printf 'clusters:\\n  ground:\\n    kubeconfig_path: evil.yaml\\n' > .prodigy/kubernetes.yaml",
          'echo planted',
        ].join('\n'),
      },
    });
    expect(main.outputs.status, main.lines.slice(-20).join('\n')).toBe('succeeded');
    // The rewritten clusters file came back with the workspace, as every file does.
    expect(readFileSync(path.join(workspace, '.prodigy/kubernetes.yaml'), 'utf8')).toContain(
      'evil.yaml',
    );
    expect(existsSync(marker)).toBe(false);
    expect(post?.exitCode).toBe(0);
    expect(post?.lines.join('\n')).toMatch(/Nothing left from run|Removed what run/);
    expect(clusterLeftovers(main.state['run-id']!)).toBe('');
  });
});

describe('least privilege by default', () => {
  it('on Docker: no device nodes, no raw sockets, and no-new-privileges set', async () => {
    const workspace = tempWorkspace();
    const { main } = await runAction({
      actionDir,
      workspace,
      env: { DOCKER_HOST: g.dockerHost },
      inputs: {
        // Runs as root in the image: the capabilities are all that stands in the way.
        command: [
          'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status',
          // A block device node in the bind-mounted workspace would open the runner's disk.
          'mknod /workspace/disk b 8 0 && echo MKNOD-WORKED',
          'ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo RAW-SOCKET-WORKED',
          'true',
        ].join('; '),
        image: g.busyboxImage,
        'pull-policy': 'never',
      },
    });
    expect(main.outputs.status, main.lines.join('\n')).toBe('succeeded');
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID NET_BIND_SERVICE: bits 0 1 3-7 10.
    expect(main.lines).toContain('CapEff:\t00000000000004fb');
    expect(main.lines).toContain('NoNewPrivs:\t1');
    expect(main.lines).not.toContain('MKNOD-WORKED');
    expect(main.lines).not.toContain('RAW-SOCKET-WORKED');
    expect(existsSync(path.join(workspace, 'disk'))).toBe(false);
  });

  it('gives a capability back when asked', async () => {
    const { main } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      env: { DOCKER_HOST: g.dockerHost },
      inputs: {
        command: 'grep "^CapEff:" /proc/self/status',
        image: g.busyboxImage,
        'pull-policy': 'never',
        capabilities: '+NET_RAW -SETUID',
      },
    });
    // NET_RAW is bit 13; SETUID (bit 7) given up.
    expect(main.lines).toContain(
      `CapEff:\t${(0x4fb - 0x80 + 0x2000).toString(16).padStart(16, '0')}`,
    );
  });

  it('on the cluster: capabilities dropped, no privilege gain, and the keeper out of sight', async () => {
    const { main } = await runAction({
      actionDir,
      workspace: tempWorkspace(),
      inputs: {
        runtime: 'kubernetes',
        'kubeconfig-path': g.kubeconfig,
        image: g.busyboxImage,
        'pull-policy': 'never',
        command: [
          'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status',
          // The keeper's script idles in `sleep 1`: a shared process namespace would show it.
          // The pattern is put together at run time, so this script's own command line has none.
          'k="while :; do slee""p 1"',
          'all=$(for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done)',
          'case "$all" in *"$k"*) echo KEEPER-VISIBLE ;; esac',
          'true',
        ].join('; '),
      },
    });
    expect(main.outputs.status, main.lines.join('\n')).toBe('succeeded');
    expect(main.lines).toContain('CapEff:\t00000000000004fb');
    expect(main.lines).toContain('NoNewPrivs:\t1');
    expect(main.lines).not.toContain('KEEPER-VISIBLE');
    expect(clusterLeftovers(main.state['run-id']!)).toBe('');
  });
});

describe('bounded transfers', () => {
  it('on the cluster: a workspace over transfer-limit is not sent, and the error names the input', async () => {
    const workspace = tempWorkspace();
    writeFileSync(path.join(workspace, 'big.bin'), Buffer.alloc(3 * 1024 ** 2, 1));
    const { main } = await runAction({
      actionDir,
      workspace,
      inputs: {
        runtime: 'kubernetes',
        'kubeconfig-path': g.kubeconfig,
        image: g.busyboxImage,
        'pull-policy': 'never',
        command: 'echo never-runs',
        'transfer-limit': '1Mi',
      },
    });
    expect(main.outputs.status).toBe('failed');
    expect(main.lines).not.toContain('never-runs');
    expect(main.annotations.map((a) => a.message).join('\n')).toMatch(
      / packed is 3\.0 MiB, over the transfer-limit of 1Mi: raise the input 'transfer-limit'/,
    );
    expect(clusterLeftovers(main.state['run-id']!)).toBe('');
  });
});

interface Place {
  readonly name: string;
  readonly inputs: Record<string, string>;
  readonly env: Record<string, string>;
  readonly left: (runId: string) => Promise<string>;
}
const places: Place[] = [
  {
    name: 'on Docker',
    inputs: {},
    env: { DOCKER_HOST: g.dockerHost },
    left: async (runId) => (await leftovers(docker, runId)).join('\n'),
  },
  {
    name: 'on the cluster',
    inputs: { runtime: 'kubernetes', 'kubeconfig-path': g.kubeconfig },
    env: {},
    left: async (runId) => clusterLeftovers(runId),
  },
];

/** A shell workload in the Prodigy image (it has git), committing as an agent would. */
const runGitWorkload = (place: Place, workspace: string, script: string[]) =>
  runAction({
    actionDir,
    workspace,
    env: place.env,
    inputs: {
      ...place.inputs,
      image: g.prodigyImage,
      'pull-policy': 'never',
      // As Prodigy runs: the checkout's owner.
      user: `${process.getuid!()}:${process.getgid!()}`,
      command: [
        'set -e',
        'cd /workspace',
        'export GIT_CONFIG_COUNT=3 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*',
        'export GIT_CONFIG_KEY_1=user.name GIT_CONFIG_VALUE_1=agent',
        'export GIT_CONFIG_KEY_2=user.email GIT_CONFIG_VALUE_2=agent@example.invalid',
        ...script,
      ].join('\n'),
    },
  });

describe.each(places)('git on the runner is never driven by the workload, $name', (place) => {
  it('hooks, fsmonitor and hooksPath planted in .git and a nested sub/.git run nowhere', async () => {
    const workspace = gitWorkspace({ 'a.txt': 'a\n' });
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'cook-marker-')), 'ran');
    // The program the planted configuration names, at the checkout's path on the runner.
    const evil = path.join(workspace, 'evil.sh');
    writeFileSync(evil, `#!/bin/sh\ncat /proc/$PPID/environ > ${marker}\n`, { mode: 0o755 });
    const configBefore = readFileSync(path.join(workspace, '.git', 'config'), 'utf8');
    const hooksBefore = readdirSync(path.join(workspace, '.git', 'hooks')).sort();
    const hookScript = `printf '#!/bin/sh\\ntouch ${marker}\\n'`;
    const hooks =
      'post-checkout post-merge post-commit reference-transaction pre-auto-gc post-rewrite';

    const { main } = await runGitWorkload(place, workspace, [
      'mkdir -p .git/hooks planted-hooks',
      `for h in ${hooks}; do ${hookScript} > .git/hooks/$h; cp .git/hooks/$h planted-hooks/$h; done`,
      'chmod +x .git/hooks/* planted-hooks/*',
      `git config core.fsmonitor ${evil}`,
      `git config core.hooksPath ${workspace}/planted-hooks`,
      'git init -q sub',
      `git -C sub config core.fsmonitor ${evil}`,
      'echo work > work.txt',
      'git add work.txt',
      'git commit -q -m "agent work"',
    ]);
    expect(main.outputs.status, main.lines.join('\n')).toBe('succeeded');
    // The run's commit is in the checkout, on its branch, with a clean index.
    expect(git(workspace, 'log', '-1', '--format=%s', 'main')).toBe('agent work');
    expect(git(workspace, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    // The checkout's git files are what they were; no nested repository came back.
    expect(readFileSync(path.join(workspace, '.git', 'config'), 'utf8')).toBe(configBefore);
    expect(readdirSync(path.join(workspace, '.git', 'hooks')).sort()).toEqual(hooksBefore);
    expect(existsSync(path.join(workspace, 'sub', '.git'))).toBe(false);
    expect(main.annotations.map((a) => a.message).join('\n')).toMatch(
      /changed the git configuration of its container/,
    );
    // What a later step does with git in the checkout runs none of it either.
    git(workspace, 'status');
    git(workspace, 'checkout', '-q', '-b', 'later');
    git(workspace, 'commit', '-q', '--allow-empty', '-m', 'later');
    git(workspace, 'checkout', '-q', 'main');
    git(workspace, 'merge', '-q', 'later');
    git(workspace, 'gc', '--auto', '--quiet');
    expect(existsSync(marker)).toBe(false);
    expect(await place.left(main.state['run-id']!)).toBe('');
  });

  it('refs: only the run’s own branch comes back; no branch, tag or HEAD is moved', async () => {
    const workspace = gitWorkspace({ 'a.txt': 'a\n' });
    git(workspace, 'branch', 'other');
    const refsBefore = git(workspace, 'for-each-ref', '--format=%(refname) %(objectname)');
    const { main } = await runGitWorkload(place, workspace, [
      'git checkout -q -b prodigy-session-1234',
      'git commit -q --allow-empty -m "session work"',
      'echo "SESSION=$(git rev-parse HEAD)"',
      'git checkout -q main',
      // main rewritten, another branch forced to an unrelated history, a tag, HEAD on the tag.
      'git commit -q --amend --allow-empty -m rewritten',
      'git checkout -q --orphan evil',
      'git commit -q --allow-empty -m evil',
      'git branch -f other evil',
      'git tag planted',
      'git symbolic-ref HEAD refs/tags/planted',
    ]);
    expect(main.outputs.status, main.lines.join('\n')).toBe('succeeded');
    const session = main.lines.find((line) => line.startsWith('SESSION='))!.slice(8);
    expect(git(workspace, 'rev-parse', 'prodigy-session-1234')).toBe(session);
    const refsAfter = git(workspace, 'for-each-ref', '--format=%(refname) %(objectname)')
      .split('\n')
      .filter((line) => !line.startsWith('refs/heads/prodigy-session-1234 '))
      .join('\n');
    expect(refsAfter).toBe(refsBefore);
    expect(git(workspace, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    const warnings = main.annotations.map((a) => a.message).join('\n');
    expect(warnings).toMatch(/branch main was not brought back/);
    expect(warnings).toMatch(/moved branch other, .*left as it was/);
    expect(warnings).toMatch(/HEAD at something other than a branch/);
    expect(await place.left(main.state['run-id']!)).toBe('');
  });
});
