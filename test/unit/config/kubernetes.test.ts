import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { kubernetesInputs } from '../../../src/config/kubernetes.js';
import type { InputName } from '../../../src/config/names.js';

let workspace: string;
beforeEach(() => {
  workspace = mkdtempSync(path.join(os.tmpdir(), 'cook-kube-'));
  mkdirSync(path.join(workspace, '.prodigy'));
  writeFileSync(path.join(workspace, 'kubeconfig.yaml'), 'apiVersion: v1\nkind: Config\n');
  writeFileSync(
    path.join(workspace, '.prodigy', 'kubernetes.yaml'),
    [
      'default_image: agents/default:1',
      'default_namespace: shared',
      'clusters:',
      '  gpu:',
      '    kubeconfig_path: kubeconfig.yaml',
      '    context: gpu-admin',
      '    namespace: gpu-jobs',
      '    image: agents/gpu:2',
      '  plain: {}',
    ].join('\n'),
  );
});

function read(inputs: Partial<Record<InputName, string>>, secrets: string[] = []) {
  return kubernetesInputs(
    (name) => inputs[name] ?? '',
    workspace,
    (s) => secrets.push(s),
  );
}

describe('kubernetesInputs', () => {
  it('takes kubeconfig, context, namespace and image from a named cluster of the clusters file', () => {
    const { target, image } = read({ cluster: 'gpu' });
    expect(target).toMatchObject({
      // Read at once: only what the file said before the run is used, in main and in post.
      kubeconfig: {
        kind: 'content',
        content: 'apiVersion: v1\nkind: Config\n',
        path: path.join(workspace, 'kubeconfig.yaml'),
      },
      context: 'gpu-admin',
      namespace: 'gpu-jobs',
      cluster: 'gpu',
      ttlSecondsAfterFinished: 3600,
    });
    expect(image).toBe('agents/gpu:2');
  });

  it('lets inputs win over the file, and falls back to its defaults', () => {
    const { target, image } = read({ cluster: 'plain', namespace: 'mine', 'ttl-seconds': '60' });
    expect(target.namespace).toBe('mine');
    expect(target.ttlSecondsAfterFinished).toBe(60);
    expect(image).toBe('agents/default:1');
    expect(read({}).target.namespace).toBe('shared');
  });

  it('names the clusters it knows when asked for another', () => {
    expect(() => read({ cluster: 'tpu' })).toThrow(
      `Input 'cluster' has invalid value "tpu": expected one of the clusters in ${path.join(workspace, '.prodigy', 'kubernetes.yaml')}: gpu, plain`,
    );
  });

  it('masks the credentials of kubeconfig content, not its every line', () => {
    const secrets: string[] = [];
    const content = [
      'apiVersion: v1',
      'users:',
      '  - name: ci',
      '    user:',
      '      token: tok-123',
      '      client-key-data: a2V5',
    ].join('\n');
    const { target } = read({ kubeconfig: content }, secrets);
    expect(target.kubeconfig).toEqual({ kind: 'content', content });
    expect(secrets.sort()).toEqual(['a2V5', 'tok-123']);
  });

  it('refuses a pod template that is not a mapping, and a bad namespace', () => {
    expect(() => read({ 'pod-template': '- a\n- b' })).toThrow(
      /Input 'pod-template' has invalid value/,
    );
    expect(() => read({ namespace: 'Not_Valid' })).toThrow(
      `Input 'namespace' has invalid value "Not_Valid": expected a Kubernetes namespace name`,
    );
    expect(
      read({ 'pod-template': 'spec:\n  nodeSelector:\n    pool: agents' }).target.podTemplate,
    ).toEqual({
      spec: { nodeSelector: { pool: 'agents' } },
    });
  });
});
