/** The test ground's Docker engine, and what a run left on it. */
import Docker from 'dockerode';
import { ground } from './ground.js';

export function groundDocker(): Docker {
  return new Docker({ socketPath: ground().dockerHost.replace(/^unix:\/\//, '') });
}

/** Containers and networks still carrying a run's label. */
export async function leftovers(docker: Docker, runId: string): Promise<string[]> {
  const filters = { label: [`io.prodigy.cook-action.run=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return [
    ...containers.map((c) => `container ${c.Id}`),
    ...networks.map((n) => `network ${n.Name}`),
  ];
}
