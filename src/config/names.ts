/** Input, output and state names: the public contract of action.yml, named once. */

export const Inputs = {
  workflow: 'workflow',
  command: 'command',
  args: 'args',
  runtime: 'runtime',
  image: 'image',
  pullPolicy: 'pull-policy',
  registryUsername: 'registry-username',
  registryPassword: 'registry-password',
  env: 'env',
  secrets: 'secrets',
  cpu: 'cpu',
  memory: 'memory',
  gpus: 'gpus',
  timeout: 'timeout',
  network: 'network',
  user: 'user',
  capabilities: 'capabilities',
  workspace: 'workspace',
  artifacts: 'artifacts',
  artifactName: 'artifact-name',
  retentionDays: 'retention-days',
  transferLimit: 'transfer-limit',
  comment: 'comment',
  githubToken: 'github-token',
  kubeconfig: 'kubeconfig',
  kubeconfigPath: 'kubeconfig-path',
  cluster: 'cluster',
  clustersConfig: 'clusters-config',
  context: 'context',
  namespace: 'namespace',
  serviceAccount: 'service-account',
  ttlSeconds: 'ttl-seconds',
  podTemplate: 'pod-template',
  shard: 'shard',
  maxParallel: 'max-parallel',
  summary: 'summary',
  dryRun: 'dry-run',
  gitMerge: 'git-merge',
  verbosity: 'verbosity',
  maxCostUsd: 'max-cost-usd',
  maxTurns: 'max-turns',
  // The plan sub-action's own.
  shards: 'shards',
  itemsPerShard: 'items-per-shard',
  // The reduce sub-action's own (the root's `results` is an output).
  results: 'results',
} as const;

export type InputName = (typeof Inputs)[keyof typeof Inputs];

export const Outputs = {
  status: 'status',
  exitCode: 'exit-code',
  duration: 'duration',
  logPath: 'log-path',
  metrics: 'metrics',
  results: 'results',
  artifactId: 'artifact-id',
  containerId: 'container-id',
  jobName: 'job-name',
  branch: 'branch',
  commits: 'commits',
  costUsd: 'cost-usd',
  // The plan sub-action's.
  matrix: 'matrix',
  itemCount: 'item-count',
  shardCount: 'shard-count',
} as const;

export type OutputName = (typeof Outputs)[keyof typeof Outputs];

/** Names of the main → post state. */
export const States = {
  runId: 'run-id',
  runtime: 'runtime',
  dockerHost: 'docker-host',
  kubernetes: 'kubernetes',
  isPost: 'is-post',
} as const;

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
