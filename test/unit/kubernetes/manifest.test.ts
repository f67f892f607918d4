import { describe, expect, it } from 'vitest';
import { buildJobObjects } from '../../../src/runtime/kubernetes/manifest.js';
import { withPodTemplate } from '../../../src/runtime/kubernetes/pod-template.js';
import { indexSet } from '../../../src/runtime/kubernetes/pods.js';
import type { RunSpec } from '../../../src/runtime/types.js';

const spec: RunSpec = {
  runId: 'abc123',
  name: 'cook-abc123',
  labels: { 'io.prodigy.cook-action.run': 'abc123' },
  argv: ['sh', '-c', 'echo hi'],
  workdir: '/workspace',
  env: { PLAIN: 'visible' },
  secretEnv: { TOKEN: 's3cret' },
  mounts: [{ host: '/tmp/ws', target: '/workspace' }],
  transferLimit: { bytes: 2 * 1024 ** 3, text: '2Gi' },
  timeoutMs: 90_500,
  origin: { submitter: 'octocat', workflow: 'workflows/fix.yml' },
  container: {
    image: 'registry.example.invalid/team/agent:1',
    pullPolicy: 'if-not-present',
    network: 'bridge',
    cpu: { millicores: 500, text: '500m' },
    memory: { bytes: 512 * 1024 ** 2, text: '512Mi' },
    gpus: 1,
    user: '1001:1001',
    registryAuth: { username: 'me', password: 'pw' },
    capabilities: ['CHOWN', 'SETUID'],
  },
};

const options = {
  namespace: 'cooking',
  target: { kubeconfig: { kind: 'default' as const }, ttlSecondsAfterFinished: 600 },
  submittedAt: new Date('2026-11-23T10:00:00Z'),
};

describe('buildJobObjects', () => {
  const { job, secret } = buildJobObjects(spec, options);
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('names, labels and annotates the Job for the run', () => {
    expect(job.metadata).toMatchObject({
      name: 'prodigy-abc123',
      namespace: 'cooking',
      labels: { 'io.prodigy.cook-action.run': 'abc123', 'app.kubernetes.io/name': 'prodigy' },
      annotations: {
        'io.prodigy.cook-action/workflow': 'workflows/fix.yml',
        'io.prodigy.cook-action/submitter': 'octocat',
        'io.prodigy.cook-action/submitted-at': '2026-11-23T10:00:00.000Z',
      },
    });
    expect(job.spec!.template.metadata!.labels).toMatchObject({
      'io.prodigy.cook-action.run': 'abc123',
    });
  });

  it('bounds the Job on the server and never retries the workload’s own failure', () => {
    expect(job.spec).toMatchObject({
      suspend: true,
      ttlSecondsAfterFinished: 600,
      activeDeadlineSeconds: 91,
      backoffLimit: 3,
    });
    // In this order: the first rule that matches decides.
    expect(job.spec!.podFailurePolicy!.rules).toEqual([
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      {
        action: 'FailJob',
        onExitCodes: { containerName: 'workload', operator: 'NotIn', values: [0] },
      },
    ]);
    expect(pod.restartPolicy).toBe('Never');
  });

  it('sets requests and limits, the pull policy and the user', () => {
    expect(container.resources).toEqual({
      requests: { cpu: '500m', memory: String(512 * 1024 ** 2), 'nvidia.com/gpu': '1' },
      limits: { cpu: '500m', memory: String(512 * 1024 ** 2), 'nvidia.com/gpu': '1' },
    });
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(pod.securityContext).toMatchObject({
      runAsUser: 1001,
      runAsGroup: 1001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // Both containers, keeper and workload: every capability dropped but the kept ones.
    for (const c of [container, pod.initContainers![0]!]) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'], add: ['CHOWN', 'SETUID'] },
        runAsNonRoot: true,
      });
    }
    expect(pod.automountServiceAccountToken).toBe(false);
    // Every volume is bounded by the transfer-limit; the control volume holds two archives.
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        { name: 'mount-0', emptyDir: { sizeLimit: String(2 * 1024 ** 3) } },
        { name: 'control', emptyDir: { sizeLimit: String(4 * 1024 ** 3) } },
      ]),
    );
  });

  it('keeps secret values out of the Job: they live in the Secret, referenced by key', () => {
    expect(JSON.stringify(job)).not.toContain('s3cret');
    expect(JSON.stringify(job)).not.toContain('"pw"');
    expect(container.env).toEqual([
      { name: 'PLAIN', value: 'visible' },
      {
        name: 'TOKEN',
        valueFrom: { secretKeyRef: { name: 'prodigy-abc123-secrets', key: 'env.TOKEN' } },
      },
    ]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'prodigy-abc123-secrets' }]);
    expect(secret?.type).toBe('kubernetes.io/dockerconfigjson');
    expect(secret?.stringData?.['env.TOKEN']).toBe('s3cret');
    expect(JSON.parse(secret!.stringData!['.dockerconfigjson']!)).toEqual({
      auths: {
        'registry.example.invalid': {
          username: 'me',
          password: 'pw',
          auth: Buffer.from('me:pw').toString('base64'),
        },
      },
    });
  });

  it('has no Secret when there is nothing secret', () => {
    const plain = buildJobObjects(
      { ...spec, secretEnv: {}, container: { ...spec.container!, registryAuth: undefined } },
      options,
    );
    expect(plain.secret).toBeUndefined();
    expect(plain.job.spec!.template.spec!.imagePullSecrets).toBeUndefined();
  });

  it('holds the Job suspended only while its pod waits for a Secret or a ConfigMap', () => {
    const plain = {
      ...spec,
      secretEnv: {},
      container: { ...spec.container!, registryAuth: undefined },
    };
    expect(buildJobObjects(plain, options).job.spec!.suspend).toBe(false);
    expect(buildJobObjects(spec, options).job.spec!.suspend).toBe(true);
    const workflowFile = { host: '/tmp/ws/fix.yml', argIndex: 2 };
    const withWorkflow = buildJobObjects(
      { ...plain, workflowFile },
      { ...options, workflowContent: 'name: fix' },
    );
    expect(withWorkflow.configMap).toBeDefined();
    expect(withWorkflow.job.spec!.suspend).toBe(true);
  });

  it('mounts a read-only folder read-only for the workload, writable for the keeper that fills it', () => {
    const withGit = buildJobObjects(
      {
        ...spec,
        mounts: [
          ...spec.mounts,
          { host: '/tmp/ws/.git/objects', target: '/cook/git-objects', readOnly: true },
        ],
      },
      options,
    ).job.spec!.template.spec!;
    const find = (mounts: { mountPath: string; readOnly?: boolean }[] | undefined) =>
      mounts?.find((m) => m.mountPath === '/cook/git-objects');
    expect(find(withGit.containers[0]!.volumeMounts)?.readOnly).toBe(true);
    expect(find(withGit.initContainers![0]!.volumeMounts)?.readOnly).toBeUndefined();
  });

  it('starts the workload container beside the keeper, its shell waiting for the ready mark', () => {
    const keeper = pod.initContainers![0]!;
    // No startup probe holds the workload's container back until the kubelet's next probe.
    expect(keeper.startupProbe).toBeUndefined();
    const ready = (c: typeof keeper) => c.volumeMounts?.find((m) => m.name === 'ready');
    expect(ready(keeper)).toEqual({ name: 'ready', mountPath: '/cook/ready' });
    expect(ready(container)).toEqual({ name: 'ready', mountPath: '/cook/ready', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'ready', emptyDir: { sizeLimit: '1Mi' } });
    const script = container.command![2]!;
    const waits = script.indexOf('while [ ! -e /cook/ready/ready ]');
    expect(waits).toBeGreaterThan(-1);
    expect(waits).toBeLessThan(script.indexOf('"$@" &'));
    expect(container.command!.slice(3)).toEqual(['cook-workload', 'sh', '-c', 'echo hi']);
  });
});

describe('withPodTemplate', () => {
  it('merges mappings and named lists, and adds what is new', () => {
    const { job } = buildJobObjects(spec, options);
    const merged = withPodTemplate(job, {
      spec: {
        nodeSelector: { pool: 'agents' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        containers: [{ name: 'workload', env: [{ name: 'EXTRA', value: '1' }] }],
      },
    });
    const pod = merged.spec!.template.spec!;
    expect(pod.nodeSelector).toEqual({ pool: 'agents' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    expect(pod.containers[0]!.image).toBe('registry.example.invalid/team/agent:1');
    expect(pod.containers[0]!.env!.map((e) => e.name)).toEqual(['PLAIN', 'TOKEN', 'EXTRA']);
    expect(pod.restartPolicy).toBe('Never');
  });
});

describe('buildJobObjects for shards at once', () => {
  const { job, secret } = buildJobObjects(spec, {
    ...options,
    indexed: { id: 'group1', count: 4, parallelism: 2 },
  });

  it('makes one Indexed Job, each index a shard, named after the run they share', () => {
    expect(job.metadata!.name).toBe('prodigy-group1');
    expect(secret!.metadata!.name).toBe('prodigy-group1-secrets');
    expect(job.spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 4,
      parallelism: 2,
      backoffLimitPerIndex: 3,
    });
    expect(job.spec!.backoffLimit).toBeUndefined();
  });

  it("fails only the index whose workload exits non-zero, and retries an index's disruption", () => {
    expect(job.spec!.podFailurePolicy!.rules.map((rule) => rule.action)).toEqual([
      'Ignore',
      'FailIndex',
    ]);
  });
});

describe('indexSet', () => {
  it("reads an Indexed Job's completedIndexes and failedIndexes", () => {
    expect([...indexSet('0,2-4,7')]).toEqual([0, 2, 3, 4, 7]);
    expect([...indexSet('')]).toEqual([]);
    expect([...indexSet(undefined)]).toEqual([]);
  });
});
