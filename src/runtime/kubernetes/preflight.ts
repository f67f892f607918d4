/**
 * Before anything is created: the API server answers, and the credentials may do every verb the
 * run needs. One error lists everything missing, so a user fixes their Role once.
 */
import type { Cluster } from './client.js';
import { apiMessage, withRetries } from './client.js';

export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly verb: string;
}

/** Every request the Kubernetes runtime makes, and so the Role it needs (deploy/kubernetes/role.yaml). */
export const REQUIRED_PERMISSIONS: readonly Permission[] = [
  ...['create', 'get', 'list', 'watch', 'patch', 'delete'].map((verb) => ({
    group: 'batch',
    resource: 'jobs',
    verb,
  })),
  ...['create', 'delete'].map((verb) => ({ group: '', resource: 'secrets', verb })),
  ...['create', 'delete'].map((verb) => ({ group: '', resource: 'configmaps', verb })),
  ...['get', 'list', 'watch', 'delete'].map((verb) => ({ group: '', resource: 'pods', verb })),
  { group: '', resource: 'pods', subresource: 'log', verb: 'get' },
  // The workspace goes in and the results come out over exec (a websocket: get, then create).
  ...['get', 'create'].map((verb) => ({ group: '', resource: 'pods', subresource: 'exec', verb })),
  { group: '', resource: 'events', verb: 'list' },
];

export function describePermission(p: Permission): string {
  const resource = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
  return `${p.verb} ${p.group ? `${resource}.${p.group}` : resource}`;
}

export async function preflight(cluster: Cluster): Promise<string> {
  let version: string;
  try {
    const info = await withRetries(
      'Asking the API server for its version',
      () => cluster.version.getCode(),
      2,
    );
    version = info.gitVersion;
  } catch (error) {
    throw new Error(
      `The Kubernetes API server at ${cluster.server} does not answer: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const missing: string[] = [];
  await Promise.all(
    REQUIRED_PERMISSIONS.map(async (p) => {
      const review = await withRetries(`Checking permission to ${describePermission(p)}`, () =>
        cluster.authorization.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                namespace: cluster.namespace,
                group: p.group,
                resource: p.resource,
                ...(p.subresource ? { subresource: p.subresource } : {}),
                verb: p.verb,
              },
            },
          },
        }),
      ).catch((error: unknown) => {
        throw new Error(`Checking permissions: ${apiMessage(error)}`, { cause: error });
      });
      if (!review.status?.allowed) missing.push(describePermission(p));
    }),
  );
  if (missing.length > 0) {
    const order = REQUIRED_PERMISSIONS.map(describePermission);
    missing.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    throw new Error(
      `The credentials may not do everything the run needs in namespace ${cluster.namespace}; missing: ${missing.join(', ')}. ` +
        'Bind a Role like deploy/kubernetes/role.yaml to them.',
    );
  }
  return version;
}
