import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Cluster } from '../../../src/runtime/kubernetes/client.js';
import {
  describePermission,
  preflight,
  REQUIRED_PERMISSIONS,
  type ResourceRule,
  ruleGrants,
} from '../../../src/runtime/kubernetes/preflight.js';

const exec = { group: '', resource: 'pods', subresource: 'exec', verb: 'create' };
const createJobs = { group: 'batch', resource: 'jobs', verb: 'create' };

describe('ruleGrants, as RBAC matches a rule', () => {
  it('matches the verb, the group and the resource', () => {
    const rule = { verbs: ['create'], apiGroups: ['batch'], resources: ['jobs'] };
    expect(ruleGrants(rule, createJobs)).toBe(true);
    expect(ruleGrants(rule, { ...createJobs, verb: 'delete' })).toBe(false);
    expect(ruleGrants(rule, { ...createJobs, group: '' })).toBe(false);
    expect(ruleGrants(rule, { ...createJobs, resource: 'cronjobs' })).toBe(false);
  });

  it('takes * for any verb, group or resource', () => {
    expect(ruleGrants({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, exec)).toBe(true);
    expect(
      ruleGrants({ verbs: ['*'], apiGroups: ['batch'], resources: ['jobs'] }, createJobs),
    ).toBe(true);
  });

  it('names a subresource apart from its resource, or as */sub', () => {
    expect(ruleGrants({ verbs: ['create'], apiGroups: [''], resources: ['pods'] }, exec)).toBe(
      false,
    );
    expect(ruleGrants({ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }, exec)).toBe(
      true,
    );
    expect(ruleGrants({ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }, exec)).toBe(
      true,
    );
  });

  it('does not count a rule limited to some names', () => {
    const rule = { verbs: ['*'], apiGroups: ['*'], resources: ['*'], resourceNames: ['one'] };
    expect(ruleGrants(rule, createJobs)).toBe(false);
  });

  it('finds every permission the runtime needs in deploy/kubernetes/role.yaml', () => {
    const role = parse(
      readFileSync(
        path.resolve(import.meta.dirname, '../../../deploy/kubernetes/role.yaml'),
        'utf8',
      ),
    ) as { rules: ResourceRule[] };
    const missing = REQUIRED_PERMISSIONS.filter((p) => !role.rules.some((r) => ruleGrants(r, p)));
    expect(missing.map(describePermission)).toEqual([]);
  });
});

/**
 * An API server whose authorizer cannot list all its rules (a webhook's, say): its rules review
 * says `incomplete`, and each permission the rules do not show is asked about alone. This stands
 * in for the authorization API (the ground's cluster has RBAC only, which is always complete).
 */
function clusterAnswering(rules: ResourceRule[], allowed: (p: string) => boolean) {
  const asked: string[] = [];
  const cluster = {
    namespace: 'cook',
    server: 'https://127.0.0.1:6443',
    version: { getCode: async () => ({ gitVersion: 'v1.34.4' }) },
    authorization: {
      createSelfSubjectRulesReview: async () => ({
        status: { resourceRules: rules, nonResourceRules: [], incomplete: true },
      }),
      createSelfSubjectAccessReview: async ({
        body,
      }: {
        body: { spec: { resourceAttributes: Record<string, string> } };
      }) => {
        const a = body.spec.resourceAttributes;
        const name = describePermission({
          group: a.group!,
          resource: a.resource!,
          verb: a.verb!,
          ...(a.subresource ? { subresource: a.subresource } : {}),
        });
        asked.push(name);
        return { status: { allowed: allowed(name) } };
      },
    },
  } as unknown as Cluster;
  return { cluster, asked };
}

describe('preflight with an incomplete rules review', () => {
  const jobs: ResourceRule = { verbs: ['*'], apiGroups: ['batch'], resources: ['jobs'] };

  it('asks only about what the rules do not show', async () => {
    const { cluster, asked } = clusterAnswering([jobs], () => true);
    await expect(preflight(cluster)).resolves.toBe('v1.34.4');
    expect(asked).not.toContain('create jobs.batch');
    expect(asked).toContain('create pods/exec');
    expect(asked).toHaveLength(REQUIRED_PERMISSIONS.length - 6);
  });

  it('names each permission the access reviews refuse', async () => {
    const { cluster } = clusterAnswering(
      [jobs],
      (p) => p !== 'create pods/exec' && p !== 'list events',
    );
    await expect(preflight(cluster)).rejects.toThrow(
      'The credentials may not do everything the run needs in namespace cook; missing: create pods/exec, list events.',
    );
  });
});
