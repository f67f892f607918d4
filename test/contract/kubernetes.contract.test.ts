/**
 * The Kubernetes runtime on the real single-node cluster of the test ground (real API server,
 * Job controller, scheduler, kubelet and containers): what a user sees, and what the cluster
 * holds afterwards.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { BatchV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { InputName } from '../../src/config/names.js';
import { LineSplitter } from '../../src/logs/line-splitter.js';
import { MAX_PARALLEL } from '../../src/config/workload.js';
import { apiMessage, connect } from '../../src/runtime/kubernetes/client.js';
import { IndexedJob } from '../../src/runtime/kubernetes/indexed-job.js';
import { buildJobObjects } from '../../src/runtime/kubernetes/manifest.js';
import {
  followPodLog,
  openPodLog,
  type PodLogSource,
} from '../../src/runtime/kubernetes/pod-logs.js';
import type { RunSpec } from '../../src/runtime/types.js';
import { cookWith } from '../support/cook.js';
import { ground } from '../support/ground.js';
import { git, gitWorkspace, tempWorkspace } from '../support/workspace.js';

const g = ground();
const kubeconfigPath = g.kubeconfig;
const config = new KubeConfig();
config.loadFromFile(kubeconfigPath);
const core = config.makeApiClient(CoreV1Api);
const batch = config.makeApiClient(BatchV1Api);
const execFileAsync = promisify(execFile);

function run(
  inputs: Partial<Record<InputName, string>>,
  options: { cancelAfterMs?: number; workspace?: string } = {},
) {
  return cookWith(
    {
      runtime: 'kubernetes',
      'kubeconfig-path': kubeconfigPath,
      namespace: 'default',
      image: g.busyboxImage,
      'pull-policy': 'never',
      ...inputs,
    },
    { workspace: options.workspace ?? tempWorkspace(), ...options },
  );
}

/** Jobs, pods, Secrets and ConfigMaps still carrying the run's label. */
async function leftovers(runId: string): Promise<string[]> {
  const labelSelector = `io.prodigy.cook-action.run=${runId}`;
  const namespace = 'default';
  const [jobs, pods, secrets, configMaps] = await Promise.all([
    batch.listNamespacedJob({ namespace, labelSelector }),
    core.listNamespacedPod({ namespace, labelSelector }),
    core.listNamespacedSecret({ namespace, labelSelector }),
    core.listNamespacedConfigMap({ namespace, labelSelector }),
  ]);
  return [
    ...jobs.items.map((j) => `Job ${j.metadata?.name}`),
    ...pods.items.map((p) => `pod ${p.metadata?.name}`),
    ...secrets.items.map((s) => `Secret ${s.metadata?.name}`),
    ...configMaps.items.map((c) => `ConfigMap ${c.metadata?.name}`),
  ];
}

describe('the kubernetes runtime on a real cluster', () => {
  it('runs a Job, relays its output and takes exit code 7 from the container status', async () => {
    const { outcome, shown, settings } = await run({ command: 'echo hello from a pod; exit 7' });
    expect(outcome.status, shown.join('\n')).toBe('failed');
    expect(outcome.exitCode).toBe(7);
    expect(shown).toContain('hello from a pod');
    expect(shown.some((l) => /Pod prodigy-\w+-\w+ scheduled on node/.test(l))).toBe(true);
    expect(await leftovers(settings.runId)).toEqual([]);
  });

  it('delivers 20,000 lines once each and in order, and succeeds on exit code 0', async () => {
    const { outcome, shown } = await run({ command: 'seq 1 20000' });
    expect(outcome.status).toBe('succeeded');
    const numbers = shown.filter((l) => /^\d+$/.test(l)).map(Number);
    expect(numbers.length).toBe(20_000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
  });

  it('keeps secret values out of the Job and the pod, and masks them in the output', async () => {
    const seen: { job?: string; pod?: string } = {};
    const running = run({
      command: 'echo "token=$TOKEN"; sleep 3',
      secrets: 'TOKEN=k8s-s3cret-value',
    });
    // Read the objects while they exist.
    for (let i = 0; i < 50 && !seen.pod; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const jobs = await batch.listNamespacedJob({
        namespace: 'default',
        labelSelector: 'app.kubernetes.io/managed-by=cook-action',
      });
      const pods = await core.listNamespacedPod({
        namespace: 'default',
        labelSelector: 'app.kubernetes.io/managed-by=cook-action',
      });
      if (jobs.items.length > 0) seen.job = JSON.stringify(jobs.items);
      if (pods.items.length > 0) seen.pod = JSON.stringify(pods.items);
    }
    const { outcome, shown, file } = await running;
    expect(outcome.status).toBe('succeeded');
    expect(seen.job).toBeDefined();
    expect(seen.pod).toBeDefined();
    expect(seen.job).not.toContain('k8s-s3cret-value');
    expect(seen.pod).not.toContain('k8s-s3cret-value');
    expect(shown).toContain('token=***');
    expect(file).not.toContain('k8s-s3cret-value');
  });

  it('names an OOMKilled container with 137', async () => {
    const { outcome } = await run({
      command: 'head -c 200m /dev/zero | tail > /dev/null',
      memory: '16Mi',
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(137);
    expect(outcome.oomKilled).toBe(true);
    expect(outcome.reason).toContain('OOMKilled');
  });

  it('stops the Job at its timeout through activeDeadlineSeconds and reports timed-out', async () => {
    const { outcome, settings } = await run({ command: 'echo waiting; sleep 120', timeout: '5s' });
    expect(outcome.status).toBe('timed-out');
    expect(await leftovers(settings.runId)).toEqual([]);
  });

  it('reports an image that cannot be pulled within 30 seconds, with the reason', async () => {
    const started = Date.now();
    const { outcome, shown } = await run({ command: 'true', image: 'cook-test/absent:1' });
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/ErrImageNeverPull|ErrImagePull|ImagePullBackOff/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(shown.some((l) => l.startsWith('Events of pod'))).toBe(true);
  });

  it('on cancellation deletes the Job, its pod and Secret within 7 seconds', async () => {
    const { outcome, settings } = await run(
      { command: 'trap "" TERM; echo started; sleep 120', secrets: 'TOKEN=x' },
      { cancelAfterMs: 6000 },
    );
    expect(outcome.status).toBe('cancelled');
    expect(outcome.phases?.cleanup_seconds ?? 99).toBeLessThan(7);
    expect(await leftovers(settings.runId)).toEqual([]);
  });

  it('prints the Job and Secret as YAML on dry-run, secrets hidden, and creates nothing', async () => {
    const { outcome, shown, settings } = await run({
      command: 'echo never',
      secrets: 'TOKEN=dry-secret',
      cpu: '500m',
      'dry-run': 'true',
    });
    expect(outcome.status).toBe('succeeded');
    const text = shown.join('\n');
    expect(text).toContain('kind: Job');
    expect(text).toContain('kind: Secret');
    expect(text).toContain('cpu: 500m');
    expect(text).toContain('env.TOKEN: "***"');
    expect(text).not.toContain('dry-secret');
    expect(await leftovers(settings.runId)).toEqual([]);
  });
});

/** kubectl of the ground's cluster, as a user would run it. */
function kubectl(...args: string[]): string {
  return execFileSync(g.kubectl, ['--kubeconfig', kubeconfigPath, ...args], { encoding: 'utf8' });
}

describe('the workspace in and the results out', () => {
  it('runs on the checkout sent into the pod, and brings back new, changed and deleted files', async () => {
    const workspace = gitWorkspace({
      'input.txt': 'from the runner\n',
      'gone.txt': 'deleted in the pod\n',
      'keep/changed.txt': 'before\n',
    });
    const { outcome, shown } = await run(
      {
        command:
          'cat input.txt; echo made > made.txt; rm gone.txt; echo after > keep/changed.txt; mkdir -p deep/er; echo x > deep/er/y.txt',
      },
      { workspace },
    );
    expect(outcome.status, shown.join('\n')).toBe('succeeded');
    expect(shown).toContain('from the runner');
    // Every folder in one archive over one exec, said in one line.
    expect(shown.filter((l) => l.startsWith('Sent '))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Sent ${workspace} to /workspace, .* in pod \\S+ \\([\\d.]+ KiB, checked\\)\\.$`,
        ),
      ),
    ]);
    expect(readFileSync(path.join(workspace, 'made.txt'), 'utf8')).toBe('made\n');
    expect(readFileSync(path.join(workspace, 'keep/changed.txt'), 'utf8')).toBe('after\n');
    expect(readFileSync(path.join(workspace, 'deep/er/y.txt'), 'utf8')).toBe('x\n');
    expect(existsSync(path.join(workspace, 'gone.txt'))).toBe(false);
    // The busybox image has no git: the checkout's history is as it was.
    expect(git(workspace, 'log', '--format=%s')).toBe('initial');
    const status = git(workspace, 'status', '--porcelain').split('\n');
    expect(status.map((line) => line.trim()).sort()).toEqual(
      ['D gone.txt', 'M keep/changed.txt', '?? deep/', '?? made.txt'].sort(),
    );
  });

  it('refuses a link the workload leaves that leads into another folder of the pod', async () => {
    const workspace = gitWorkspace({ 'input.txt': 'x\n' });
    // The folders come back in one archive: a link that stays inside it but leaves its own
    // folder (the workspace's) is refused as one leaving the archive would be.
    const { outcome, shown } = await run(
      { command: 'ln -s ../cook/exchange sneak && echo made > made.txt' },
      { workspace },
    );
    expect(outcome.status, shown.join('\n')).toBe('failed');
    expect(shown.join('\n')).toContain(
      '/workspace/sneak is a link to "../cook/exchange", which leads outside /workspace: refused',
    );
    expect(existsSync(path.join(workspace, 'sneak'))).toBe(false);
  });

  it('keeps no secret value in the Job, pod, Secret data as shown, or the workflow ConfigMap', async () => {
    const fixtures = path.resolve(import.meta.dirname, '../fixtures/workflows');
    const files = Object.fromEntries(
      readdirSync(fixtures).map((name) => [name, readFileSync(path.join(fixtures, name), 'utf8')]),
    );
    const workspace = gitWorkspace(files);
    let yaml = '';
    const running = run(
      {
        image: g.prodigyImage,
        workflow: 'standard.yml',
        secrets: 'TOKEN=k8s-workflow-s3cret',
      },
      { workspace },
    );
    // Read while the run goes on: everything it created, as kubectl shows it.
    const complete = () =>
      ['kind: Job', 'kind: Pod', 'kind: ConfigMap'].every((k) => yaml.includes(k));
    for (let i = 0; i < 150 && !complete(); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = kubectl(
        'get',
        'jobs,pods,configmaps',
        '-l',
        'app.kubernetes.io/managed-by=cook-action',
        '-o',
        'yaml',
      );
      if (now.includes('kind: Pod')) yaml = now;
    }
    const { outcome, shown } = await running;
    expect(outcome.status, shown.slice(-20).join('\n')).toBe('succeeded');
    expect(yaml).toContain('kind: Job');
    expect(yaml).toContain('kind: Pod');
    expect(yaml).toContain('kind: ConfigMap');
    // The workflow travels in the ConfigMap, and Prodigy reads it from there.
    expect(yaml).toContain('name: standard-fixture');
    expect(yaml).toContain('/cook/workflow/workflow.yml');
    expect(yaml).not.toContain('k8s-workflow-s3cret');
  });
});

describe('following pod logs across dropped connections', () => {
  const cluster = connect({
    kubeconfig: {
      kind: 'content',
      content: readFileSync(kubeconfigPath, 'utf8'),
      path: kubeconfigPath,
    },
    ttlSecondsAfterFinished: 60,
  });
  const pods: string[] = [];
  afterAll(async () => {
    for (const name of pods)
      await core
        .deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 0 })
        .catch(() => {});
  });

  it('delivers every line once and in order while the stream is cut every 700 lines', async () => {
    const name = `cook-test-logs-${Date.now()}`;
    pods.push(name);
    // 20,000 lines written over about two seconds, so the cuts fall while the pod still writes.
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cook-action-test' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'writer',
              image: g.busyboxImage,
              imagePullPolicy: 'Never',
              command: [
                'sh',
                '-c',
                'i=0; while [ $i -lt 20 ]; do seq $((i*1000+1)) $((i*1000+1000)); i=$((i+1)); sleep 0.1; done',
              ],
            },
          ],
        },
      },
    });
    const state = async () =>
      (await core.readNamespacedPod({ name, namespace: 'default' })).status?.containerStatuses?.[0]
        ?.state;
    for (let i = 0; i < 100; i++) {
      const s = await state();
      if (s?.running || s?.terminated) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    let drops = 0;
    const source: PodLogSource = {
      async open(request, signal) {
        const stream = await openPodLog(cluster, name, 'writer', request, signal);
        if (!request.follow) return stream;
        const splitter = new LineSplitter();
        let lines = 0;
        stream.on('data', (chunk: Buffer) => {
          lines += splitter.push(chunk).length;
          if (lines >= 700 && !stream.destroyed) {
            drops++;
            // A reset in the middle of the stream, as a proxy or an API server restart would.
            (stream as Readable).destroy(
              Object.assign(new Error('simulated drop'), { code: 'ECONNRESET' }),
            );
          }
        });
        return stream;
      },
      running: async () => !(await state())?.terminated,
    };
    const lines: string[] = [];
    const splitter = new LineSplitter();
    await followPodLog(source, (line) => lines.push(...splitter.push(line)), { retryDelayMs: 10 });
    expect(drops).toBeGreaterThan(5);
    expect(lines.length).toBe(20_000);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
  });
});

describe('as a service account bound only to deploy/kubernetes/role.yaml', () => {
  const namespace = `cook-rbac-${Date.now().toString(36)}`;
  const role = path.resolve(import.meta.dirname, '../../deploy/kubernetes/role.yaml');

  afterAll(() => {
    kubectl('delete', 'namespace', namespace, '--wait=false', '--ignore-not-found');
  });

  /** A service account bound to a Role made from roleYaml; a kubeconfig (content) for it. */
  function setUp(
    account: string,
    roleYaml: string,
    user: (token: string) => string[] = (token) => [`    token: ${token}`],
  ): string {
    execFileSync(g.kubectl, ['--kubeconfig', kubeconfigPath, '-n', namespace, 'apply', '-f', '-'], {
      input: roleYaml.replace(/name: cook-action\b/, `name: ${account}`),
    });
    kubectl('-n', namespace, 'create', 'serviceaccount', account);
    kubectl(
      '-n',
      namespace,
      'create',
      'rolebinding',
      account,
      `--role=${account}`,
      `--serviceaccount=${namespace}:${account}`,
    );
    const token = kubectl('-n', namespace, 'create', 'token', account, '--duration=1h').trim();
    const admin = config.getCurrentCluster()!;
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: ground',
      '  cluster:',
      `    server: ${admin.server}`,
      `    certificate-authority-data: ${admin.caData}`,
      'users:',
      `- name: ${account}`,
      '  user:',
      ...user(token),
      'contexts:',
      '- name: ground',
      '  context:',
      '    cluster: ground',
      `    user: ${account}`,
      `    namespace: ${namespace}`,
      'current-context: ground',
      '',
    ].join('\n');
  }

  it('runs, sends the workspace and brings back the results with only those permissions', async () => {
    kubectl('create', 'namespace', namespace);
    const kubeconfig = setUp('cook-action', readFileSync(role, 'utf8'));
    const workspace = gitWorkspace({ 'in.txt': 'in\n' });
    const { outcome, shown, file } = await cookWith(
      {
        runtime: 'kubernetes',
        kubeconfig,
        image: g.busyboxImage,
        'pull-policy': 'never',
        command: 'cat in.txt; echo out > out.txt; exit 3',
        secrets: 'TOKEN=rbac-secret',
      },
      { workspace },
    );
    expect(outcome.exitCode, shown.join('\n')).toBe(3);
    expect(shown).toContain('in');
    expect(shown.some((l) => l.includes(`namespace ${namespace}`))).toBe(true);
    expect(readFileSync(path.join(workspace, 'out.txt'), 'utf8')).toBe('out\n');
    // The service account's token is a credential of the kubeconfig content: masked.
    expect(file).not.toMatch(/eyJ[\w-]{20,}/);
    expect(
      kubectl(
        '-n',
        namespace,
        'get',
        'jobs,pods,secrets,configmaps',
        '-l',
        'app.kubernetes.io/managed-by=cook-action',
        '-o',
        'name',
      ).trim(),
    ).toBe('');
  });

  it('names every missing permission at once, before creating anything', async () => {
    const reduced = readFileSync(role, 'utf8').replace('verbs: [get, create]', 'verbs: [get]');
    const withoutExec = reduced.replace(
      /- apiGroups: \[''\]\n\s*resources: \[configmaps\]\n\s*verbs: \[create, delete\]/,
      "- apiGroups: ['']\n    resources: [configmaps]\n    verbs: [get]",
    );
    const kubeconfig = setUp('cook-action-partial', withoutExec);
    const { outcome } = await cookWith(
      {
        runtime: 'kubernetes',
        kubeconfig,
        image: g.busyboxImage,
        'pull-policy': 'never',
        command: 'true',
      },
      { workspace: tempWorkspace() },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toContain(
      'missing: create configmaps, delete configmaps, create pods/exec',
    );
    expect(outcome.reason).toContain('deploy/kubernetes/role.yaml');
    expect(kubectl('-n', namespace, 'get', 'jobs', '-o', 'name').trim()).toBe('');
  });

  it('gets its token from an exec credential plugin, and names a plugin that is missing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cook-plugin-'));
    const plugin = path.join(dir, 'cook-test-login');
    const kubeconfig = setUp('cook-action-plugin', readFileSync(role, 'utf8'), (token) => {
      writeFileSync(
        plugin,
        `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`,
        { mode: 0o755 },
      );
      return [
        '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1',
        `      command: ${plugin}`,
        '      interactiveMode: Never',
      ];
    });
    const inputs = {
      runtime: 'kubernetes',
      image: g.busyboxImage,
      'pull-policy': 'never',
      command: 'echo through the plugin',
    } as const;
    const ok = await cookWith({ ...inputs, kubeconfig }, { workspace: tempWorkspace() });
    expect(ok.outcome.status, ok.shown.join('\n')).toBe('succeeded');
    expect(ok.shown).toContain('through the plugin');

    const missing = await cookWith(
      { ...inputs, kubeconfig: kubeconfig.replace(plugin, 'cook-missing-login') },
      { workspace: tempWorkspace() },
    );
    expect(missing.outcome.status).toBe('failed');
    expect(missing.outcome.reason).toContain(
      "gets its credentials from the exec plugin 'cook-missing-login', which is not installed here (not found on PATH)",
    );
  });
});

describe('when the cluster gets in the way', () => {
  it('fails a pod that cannot be scheduled past the scheduling timeout, with its events', async () => {
    process.env.COOK_ACTION_SCHEDULING_TIMEOUT = '4';
    try {
      const { outcome, shown, settings } = await run({ command: 'true', cpu: '64' });
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toContain('the pod could not be scheduled within 4s');
      expect(shown.some((l) => /cannot be scheduled yet: .*Insufficient cpu/.test(l))).toBe(true);
      expect(shown.some((l) => /FailedScheduling: .*Insufficient cpu/.test(l))).toBe(true);
      expect(await leftovers(settings.runId)).toEqual([]);
    } finally {
      delete process.env.COOK_ACTION_SCHEDULING_TIMEOUT;
    }
  });

  it('starts another pod after an eviction, and shows each attempt in its own section', async () => {
    const workspace = tempWorkspace({ 'in.txt': 'in\n' });
    let evicted = '';
    const running = run(
      { command: 'echo "attempt in $(hostname)"; sleep 6; echo done > out.txt' },
      { workspace },
    );
    // Evict the first pod once its workload runs, as a node drain would.
    for (let i = 0; i < 200 && !evicted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const pods = await core.listNamespacedPod({
        namespace: 'default',
        labelSelector: 'app.kubernetes.io/managed-by=cook-action',
      });
      const pod = pods.items.find((p) =>
        p.status?.containerStatuses?.some((c) => c.name === 'workload' && c.state?.running),
      );
      if (pod) {
        evicted = pod.metadata!.name!;
        await core.createNamespacedPodEviction({
          name: evicted,
          namespace: 'default',
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: evicted } },
        });
      }
    }
    const { outcome, shown } = await running;
    expect(evicted).not.toBe('');
    expect(outcome.status, shown.join('\n')).toBe('succeeded');
    expect(
      shown.some((l) => l.startsWith(`Pod ${evicted} was evicted (EvictionByEvictionAPI`)),
    ).toBe(true);
    expect(shown.some((l) => /── output of pod .* \(attempt 2\) ──/.test(l))).toBe(true);
    expect(shown.filter((l) => l.startsWith('attempt in ')).length).toBe(2);
    expect(readFileSync(path.join(workspace, 'out.txt'), 'utf8')).toBe('done\n');
  });
});

/**
 * The API server's count of the watches open now on namespaced pods (ours: by label) and on one
 * Job (ours: by name): its own gauge, apiserver_longrunning_requests.
 */
async function openWatches(): Promise<{ pods: number; jobs: number }> {
  const { stdout } = await execFileAsync(g.kubectl, ['get', '--raw', '/metrics'], {
    env: { ...process.env, KUBECONFIG: kubeconfigPath },
    maxBuffer: 64 * 1024 * 1024,
  });
  const gauge = (resource: string, scope: string) => {
    const line = stdout
      .split('\n')
      .find(
        (l) =>
          l.startsWith('apiserver_longrunning_requests{') &&
          l.includes(`resource="${resource}"`) &&
          l.includes(`scope="${scope}"`) &&
          l.includes('subresource=""') &&
          l.includes('verb="WATCH"'),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  return { pods: gauge('pods', 'namespace'), jobs: gauge('jobs', 'resource') };
}

/** Shard n's spec as the fan-out gives it on a cluster, without folders to send. */
function shardSpec(n: number, command: string): RunSpec {
  return {
    runId: `watches-${n}`,
    name: `cook-watches-${n}`,
    labels: { 'io.prodigy.cook-action.run': 'watches' },
    argv: ['sh', '-c', command],
    workdir: '/workspace',
    env: {},
    secretEnv: {},
    mounts: [],
    transferLimit: { bytes: 1024 ** 3, text: '1Gi' },
    origin: { submitter: 'contract' },
    container: {
      image: g.busyboxImage,
      pullPolicy: 'never',
      network: 'bridge',
      capabilities: [],
    },
  };
}

/**
 * The watches this process opens, counted as client-node's Watch opens and ends them: those open
 * now, and the most open at once.
 */
function countWatches() {
  const open = { pods: 0, jobs: 0 };
  const peak = { pods: 0, jobs: 0 };
  const original = Watch.prototype.watch;
  const spy = vi.spyOn(Watch.prototype, 'watch').mockImplementation(function (
    this: Watch,
    path,
    query,
    callback,
    done,
  ) {
    const kind = path.endsWith('/pods') ? 'pods' : 'jobs';
    open[kind]++;
    peak[kind] = Math.max(peak[kind], open[kind]);
    return original.call(this, path, query, callback, (error) => {
      open[kind]--;
      done(error);
    });
  });
  return { open, peak, restore: () => spy.mockRestore() };
}

describe('an Indexed Job of 16 shards', () => {
  it('is followed with one watch of its pods and one of the Job, closed at the cleanup', async () => {
    const count = 16;
    const id = `watches${Date.now().toString(36)}`;
    const target = {
      kubeconfig: { kind: 'default' as const },
      namespace: 'default',
      ttlSecondsAfterFinished: 60,
    };
    const job = new IndexedJob({ target }, { id, count, parallelism: count });
    const runtimes = Array.from({ length: count }, (_, index) => job.runtimeFor(index));
    const specs = runtimes.map((_, index) =>
      shardSpec(index, 'echo "index $JOB_COMPLETION_INDEX"; sleep 6'),
    );
    const watches = countWatches();
    try {
      const before = await openWatches();
      await Promise.all(runtimes.map((runtime, index) => runtime.prepare(specs[index]!, () => {})));
      const workloads = await Promise.all(
        runtimes.map((runtime, index) => runtime.start(specs[index]!)),
      );
      const verdicts = Promise.all(workloads.map((w) => w.wait()));
      let done = false;
      void verdicts.then(() => (done = true));
      // The API server's own gauge, for the record: it also counts watches of other processes
      // that it has not yet seen gone, so only this process's own count is held to a number.
      const server = { pods: 0, jobs: 0 };
      while (!done) {
        const now = await openWatches();
        server.pods = Math.max(server.pods, now.pods - before.pods);
        server.jobs = Math.max(server.jobs, now.jobs - before.jobs);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const statuses = await verdicts;
      await Promise.all(runtimes.map((runtime) => runtime.cleanup()));
      console.log(
        `${count} indexes: at most ${watches.peak.pods} pod watch(es) and ${watches.peak.jobs} Job watch(es) open at once (the API server's gauge rose by ${server.pods} and ${server.jobs}); ${watches.open.pods} and ${watches.open.jobs} open after the cleanup`,
      );
      expect(statuses.map((s) => s.exitCode)).toEqual(Array.from({ length: count }, () => 0));
      expect(watches.peak).toEqual({ pods: 1, jobs: 1 });
      expect(watches.open).toEqual({ pods: 0, jobs: 0 });
      expect(await leftovers('watches')).toEqual([]);
    } finally {
      watches.restore();
    }
  });
});

describe("max-parallel's limit on Kubernetes", () => {
  /** The API server's answer to creating our Indexed Job of `count` shards, as a dry run. */
  async function dryRun(count: number): Promise<string> {
    const { job } = buildJobObjects(shardSpec(0, 'true'), {
      namespace: 'default',
      target: { kubeconfig: { kind: 'default' }, ttlSecondsAfterFinished: 60 },
      submittedAt: new Date(),
      indexed: { id: `limit${count}`, count, parallelism: count },
    });
    try {
      await batch.createNamespacedJob({ namespace: 'default', body: job, dryRun: 'All' });
      return 'accepted';
    } catch (error) {
      return apiMessage(error);
    }
  }

  it('is the API server’s: our Indexed Job at the most is accepted, and one more refused', async () => {
    const most = MAX_PARALLEL.kubernetes;
    expect(await dryRun(most)).toBe('accepted');
    const refused = await dryRun(most + 1);
    console.log(`${most + 1} shards: ${refused}`);
    expect(refused).toContain(
      `spec.parallelism: Invalid value: ${most + 1}: must be less than or equal to ${most} when completion mode is Indexed`,
    );
    expect(refused).toContain(
      `spec.maxFailedIndexes: Required value: must be specified when completions is above ${most}`,
    );
    // A dry run creates nothing.
    expect(await leftovers('watches')).toEqual([]);
  });
});
