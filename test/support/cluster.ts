/** The ground's cluster as a user would look at it, with kubectl. */
import { execFileSync } from 'node:child_process';
import { ground } from './ground.js';

export function kubectl(...args: string[]): string {
  const g = ground();
  return execFileSync(g.kubectl, ['--kubeconfig', g.kubeconfig, ...args], {
    encoding: 'utf8',
  }).trim();
}

/** What the cluster still holds of a run (Jobs, pods, Secrets, ConfigMaps), one name a line. */
export function clusterLeftovers(runId: string): string {
  return kubectl(
    'get',
    'jobs,pods,secrets,configmaps',
    '-l',
    `io.prodigy.cook-action.run=${runId}`,
    '-o',
    'name',
  );
}
