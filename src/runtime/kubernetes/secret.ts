/**
 * The run's Secret: its secret environment (`env.NAME`) and, with registry credentials, the pull
 * secret, in one object owned by the Job.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { RunSpec } from '../types.js';
import { registryOf } from '../docker/image.js';

/** The Secret the spec needs, or undefined when it has no secret env and no credentials. */
export function runSecret(
  spec: RunSpec,
  metadata: { name: string; namespace: string; labels: Record<string, string> },
): V1Secret | undefined {
  const keys = Object.keys(spec.secretEnv);
  const auth = spec.container?.registryAuth;
  if (keys.length === 0 && !auth) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    // Opaque with the pull credentials under .dockerconfigjson: kubelet reads that key from any
    // Secret named in imagePullSecrets.
    type: auth ? 'kubernetes.io/dockerconfigjson' : 'Opaque',
    stringData: {
      ...Object.fromEntries(keys.map((key) => [`env.${key}`, spec.secretEnv[key]!])),
      ...(auth ? { '.dockerconfigjson': dockerConfigJson(spec.container!.image, auth) } : {}),
    },
  };
}

function dockerConfigJson(image: string, auth: { username: string; password: string }): string {
  // An image without a registry host is Docker Hub's, which the kubelet files under docker.io.
  const registry = registryOf(image) ?? 'docker.io';
  const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  return JSON.stringify({
    auths: { [registry]: { username: auth.username, password: auth.password, auth: encoded } },
  });
}
