/**
 * Before anything is created: the API server answers, and the credentials may do every verb the
 * run needs. One error lists everything missing, in the Role's order, so a user fixes their Role
 * once.
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

/** One rule of a SelfSubjectRulesReview's answer. */
export interface ResourceRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
}

/**
 * Whether a rule grants the permission, as RBAC matches it: `*` for any verb, group or resource,
 * `*\/sub` for a subresource of any resource. A rule limited to some names does not count: the
 * run creates and lists objects it cannot name in advance.
 */
export function ruleGrants(rule: ResourceRule, p: Permission): boolean {
  if (rule.resourceNames && rule.resourceNames.length > 0) return false;
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  const resources = rule.resources ?? [];
  return (
    (rule.verbs.includes('*') || rule.verbs.includes(p.verb)) &&
    ((rule.apiGroups ?? []).includes('*') || (rule.apiGroups ?? []).includes(p.group)) &&
    (resources.includes('*') ||
      resources.includes(resource) ||
      (p.subresource !== undefined && resources.includes(`*/${p.subresource}`)))
  );
}

/**
 * The API server answers, and the credentials may do all the run needs. One rules review lists
 * what they may do in the namespace; only when its answer is incomplete (an authorizer that
 * cannot list its rules, such as a webhook) is each permission it does not show asked about alone.
 */
export async function preflight(cluster: Cluster): Promise<string> {
  const [version, rules] = await Promise.all([serverVersion(cluster), rulesReview(cluster)]);
  const unshown = REQUIRED_PERMISSIONS.filter(
    (p) => !rules.resourceRules.some((rule) => ruleGrants(rule, p)),
  );
  const missing = rules.incomplete ? await notAllowed(cluster, unshown) : unshown;
  if (missing.length > 0) {
    throw new Error(
      `The credentials may not do everything the run needs in namespace ${cluster.namespace}; missing: ${missing.map(describePermission).join(', ')}. ` +
        'Bind a Role like deploy/kubernetes/role.yaml to them.',
    );
  }
  return version;
}

async function serverVersion(cluster: Cluster): Promise<string> {
  try {
    const info = await withRetries(
      'Asking the API server for its version',
      () => cluster.version.getCode(),
      2,
    );
    return info.gitVersion;
  } catch (error) {
    throw new Error(
      `The Kubernetes API server at ${cluster.server} does not answer: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function rulesReview(
  cluster: Cluster,
): Promise<{ resourceRules: readonly ResourceRule[]; incomplete: boolean }> {
  const review = await withRetries('Checking permissions', () =>
    cluster.authorization.createSelfSubjectRulesReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectRulesReview',
        spec: { namespace: cluster.namespace },
      },
    }),
  ).catch((error: unknown) => {
    throw new Error(`Checking permissions: ${apiMessage(error)}`, { cause: error });
  });
  return {
    resourceRules: review.status?.resourceRules ?? [],
    incomplete: review.status?.incomplete ?? true,
  };
}

/** The permissions an access review each says are not allowed, in the order given. */
async function notAllowed(cluster: Cluster, permissions: readonly Permission[]) {
  const allowed = await Promise.all(
    permissions.map(async (p) => {
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
      return review.status?.allowed === true;
    }),
  );
  return permissions.filter((_, index) => !allowed[index]);
}
