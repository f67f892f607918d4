/**
 * The test ground's facts (npm run ground prints them; scripts/test.sh exports them). Tests that
 * need a real engine call these and fail, never skip, when the ground is missing.
 */
export interface Ground {
  readonly dockerHost: string;
  readonly prodigyImage: string;
  /** The agent image (images/agent) as the ground builds it. */
  readonly agentImage: string;
  readonly busyboxImage: string;
  readonly debianImage: string;
  /** Host folder with `prodigy` and the `claude` stub, for the local runtime. */
  readonly bin: string;
  /** Admin kubeconfig of the ground's single-node cluster. */
  readonly kubeconfig: string;
  /** kubectl of the cluster's Kubernetes release. */
  readonly kubectl: string;
}

export function ground(): Ground {
  const env = process.env;
  const missing = [
    'DOCKER_HOST',
    'PRODIGY_IMAGE',
    'AGENT_IMAGE',
    'BUSYBOX_IMAGE',
    'DEBIAN_IMAGE',
    'GROUND_BIN',
    'KUBECONFIG',
    'KUBECTL',
  ].filter((key) => !env[key]);
  if (missing.length > 0) {
    throw new Error(
      `The test ground is not set up (missing ${missing.join(', ')}). Run the suite with 'npm test', ` +
        `or export the KEY=VALUE lines that 'npm run ground' prints.`,
    );
  }
  return {
    dockerHost: env.DOCKER_HOST!,
    prodigyImage: env.PRODIGY_IMAGE!,
    agentImage: env.AGENT_IMAGE!,
    busyboxImage: env.BUSYBOX_IMAGE!,
    debianImage: env.DEBIAN_IMAGE!,
    bin: env.GROUND_BIN!,
    kubeconfig: env.KUBECONFIG!,
    kubectl: env.KUBECTL!,
  };
}
