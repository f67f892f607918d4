/** Input, output and state names: the public contract of action.yml, named once. */

/** `pull-policy` → `pullPolicy`, as a type. */
type Camel<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S;

/** A table of names, each under its camelCase key: `named('pull-policy').pullPolicy`. */
function named<const N extends readonly string[]>(
  ...names: N
): { readonly [K in N[number] as Camel<K>]: K } {
  const camel = (name: string) =>
    name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
  return Object.freeze(Object.fromEntries(names.map((name) => [camel(name), name]))) as never;
}

export const Inputs = named(
  'workflow',
  'command',
  'args',
  'runtime',
  'image',
  'pull-policy',
  'registry-username',
  'registry-password',
  'env',
  'secrets',
  'cpu',
  'memory',
  'gpus',
  'timeout',
  'network',
  'user',
  'capabilities',
  'workspace',
  'artifacts',
  'artifact-name',
  'retention-days',
  'transfer-limit',
  'comment',
  'github-token',
  'kubeconfig',
  'kubeconfig-path',
  'cluster',
  'clusters-config',
  'context',
  'namespace',
  'service-account',
  'ttl-seconds',
  'pod-template',
  'shard',
  'max-parallel',
  'summary',
  'dry-run',
  'git-merge',
  'verbosity',
  'max-cost-usd',
  'max-turns',
  // The plan sub-action's own.
  'shards',
  'items-per-shard',
  // The reduce sub-action's own (the root's `results` is an output).
  'results',
);

export type InputName = (typeof Inputs)[keyof typeof Inputs];

export const Outputs = named(
  'status',
  'exit-code',
  'duration',
  'log-path',
  'metrics',
  'results',
  'artifact-id',
  'container-id',
  'job-name',
  'branch',
  'commits',
  'cost-usd',
  // The plan sub-action's.
  'matrix',
  'item-count',
  'shard-count',
);

export type OutputName = (typeof Outputs)[keyof typeof Outputs];

/** Names of the main → post state. */
export const States = named('run-id', 'runtime', 'docker-host', 'kubernetes', 'is-post');

/** The image used when the `image` input is empty: the project's agent image. */
export const DEFAULT_IMAGE = 'ghcr.io/prodigy/cook-agent:0.1.0';

/** Label keys put on everything the action creates, so cleanup can find it again. */
export const Labels = {
  managed: 'io.prodigy.cook-action',
  run: 'io.prodigy.cook-action.run',
  workflow: 'io.prodigy.cook-action.workflow',
  githubRun: 'io.prodigy.cook-action.github-run',
  githubJob: 'io.prodigy.cook-action.github-job',
} as const;
