import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  describePermission,
  REQUIRED_PERMISSIONS,
} from '../../../src/runtime/kubernetes/preflight.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe('deploy/kubernetes/role.yaml', () => {
  it('grants exactly what the runtime checks for before it creates anything', () => {
    const role = parse(
      readFileSync(
        path.resolve(import.meta.dirname, '../../../deploy/kubernetes/role.yaml'),
        'utf8',
      ),
    ) as {
      rules: Rule[];
    };
    const granted = role.rules.flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) =>
          rule.verbs.map((verb) => {
            const [name, subresource] = resource.split('/');
            return describePermission({
              group,
              resource: name!,
              verb,
              ...(subresource ? { subresource } : {}),
            });
          }),
        ),
      ),
    );
    expect(granted.sort()).toEqual(REQUIRED_PERMISSIONS.map(describePermission).sort());
  });
});
