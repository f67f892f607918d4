/**
 * Turns the action's inputs and environment into one validated, read-only Settings value. The
 * only module that reads inputs or process.env (docs/ARCHITECTURE.md).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from './errors.js';
import { parseCapabilities } from './capabilities.js';
import { kubernetesInputs, type KubernetesTarget } from './kubernetes.js';
import { DEFAULT_IMAGE, Inputs, type InputName } from './names.js';
import { parseShardEntry, type ShardEntry } from './shard.js';
import { isMapReduceText } from '../workflow/model.js';
import {
  type CpuQuantity,
  type GpuRequest,
  type MemoryQuantity,
  parseArgs,
  parseBoolean,
  parseChoice,
  parseCpu,
  parseDuration,
  parseGpus,
  parseSize,
  parseKeyValueLines,
  parseLines,
  parseMemory,
  parseNonNegativeInteger,
} from './parse.js';

export const RUNTIMES = ['docker', 'kubernetes', 'local'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];
export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const NETWORKS = ['bridge', 'none', 'isolated', 'host'] as const;
export type NetworkMode = (typeof NETWORKS)[number];

/** What runs: Prodigy on a workflow, or a shell command. */
export type Workload =
  | {
      readonly kind: 'prodigy';
      /** Workspace-relative path of the workflow file, with forward slashes. */
      readonly workflow: string;
      readonly args: readonly string[];
      /**
       * Run a workflow cook-action derived from `workflow` instead (a plan, a shard, a reduce):
       * `file` inside the host folder `exchange`, which the workload sees and can write to.
       */
      readonly derived?: { readonly exchange: string; readonly file: string };
      /** Merge Prodigy's session with plain git when the workflow has no `merge:` of its own. */
      readonly gitMerge: boolean;
    }
  | { readonly kind: 'command'; readonly command: string; readonly workflow?: string };

/** Caps on what a step's Claude sessions use in all (results/claude-budget.ts enforces them). */
export interface ClaudeLimits {
  /** The most Claude's sessions may cost, in US dollars, as Claude prices them. */
  readonly maxCostUsd?: number;
  /** The most turns (answers of the API) Claude's sessions may take. */
  readonly maxTurns?: number;
}

/** Where the Docker engine answers, read from DOCKER_HOST and friends. */
export type DockerConnection =
  | { readonly kind: 'socket'; readonly socketPath: string }
  | {
      readonly kind: 'tcp';
      readonly host: string;
      readonly port: number;
      readonly tlsCertPath?: string;
    };

/** Facts about the surrounding GitHub Actions run, when there is one. */
export interface GitHubContext {
  readonly inActions: boolean;
  readonly runId?: string;
  readonly runAttempt?: string;
  readonly job?: string;
  readonly repository?: string;
  /** Who started the run: the GitHub actor, or the local user. */
  readonly actor?: string;
  readonly serverUrl: string;
  /** The run's artifact service answers (a runtime token and its address are given). */
  readonly artifactService: boolean;
  /** The REST API's address (GITHUB_API_URL). */
  readonly apiUrl: string;
  /** The workflow's name (GITHUB_WORKFLOW): one pull-request comment per workflow. */
  readonly workflow?: string;
  /** The pull request the run is for, read from the event payload. */
  readonly pullRequest?: number;
  /** The link to this run's page. */
  readonly runUrl?: string;
}

interface CommonSettings {
  /** Short random id of this run; every resource created carries it as a label. */
  readonly runId: string;
  /**
   * Set on the parts of a run that fans out (one per shard, each with a runId of its own): the
   * parent's runId, which their resources carry as the run label instead, so that cleaning up
   * the run finds them all.
   */
  readonly runGroup?: string;
  readonly workload: Workload;
  /** Absolute host folder the workload sees as /workspace (its cwd). */
  readonly workspace: string;
  /** Plain environment for the workload. */
  readonly env: ReadonlyMap<string, string>;
  /** Secret environment for the workload: masked before any output. */
  readonly secrets: ReadonlyMap<string, string>;
  /** Stop the run after this many milliseconds and report `timed-out`. */
  readonly timeoutMs?: number;
  readonly artifacts: readonly string[];
  readonly artifactName?: string;
  /** Days the uploaded artifact is kept; unset means the repository's setting. */
  readonly retentionDays?: number;
  /**
   * The most that travels for a run: the workspace into a pod, what comes back from it (each
   * archive and the commits), and the run's artifact; also each pod volume's sizeLimit.
   */
  readonly transferLimit: MemoryQuantity;
  /** Keep one pull-request comment per workflow up to date with the run's short summary. */
  readonly comment: boolean;
  /** The token the comment is written with (masked). */
  readonly githubToken?: string;
  /** The spend and turn caps of the step's Claude sessions (a Prodigy workflow's). */
  readonly claudeLimits?: ClaudeLimits;
  /** Run only this shard of a planned MapReduce workflow. */
  readonly shard?: ShardEntry;
  /** Split the MapReduce workflow into this many shards and run them at once. */
  readonly maxParallel?: number;
  readonly summary: boolean;
  readonly dryRun: boolean;
  /** Host folder the action keeps for this run: the log, Prodigy's records. */
  readonly runDir: string;
  /** The whole log, written as the run goes. */
  readonly logPath: string;
  readonly github: GitHubContext;
}

/** Everything a container needs, shared by the container runtimes. */
export interface ContainerSettings {
  readonly image: string;
  readonly pullPolicy: PullPolicy;
  readonly registryAuth?: { readonly username: string; readonly password: string };
  readonly cpu?: CpuQuantity;
  readonly memory?: MemoryQuantity;
  readonly gpus?: GpuRequest;
  readonly network: NetworkMode;
  /** The container's user; unset means the image's, or the workspace owner for Prodigy. */
  readonly user?: string;
  /** Linux capabilities the container keeps (config/capabilities.ts); all others are dropped. */
  readonly capabilities: readonly string[];
}

export interface DockerSettings extends CommonSettings, ContainerSettings {
  readonly runtime: 'docker';
  readonly docker: DockerConnection;
}

export interface LocalSettings extends CommonSettings {
  readonly runtime: 'local';
  /** The environment the child process starts from: the runner's, less the action's own. */
  readonly hostEnv: Readonly<Record<string, string>>;
  /** Container-only inputs that were set and that a local process cannot honour. */
  readonly ignoredInputs: readonly InputName[];
}

export interface KubernetesSettings extends CommonSettings, ContainerSettings {
  readonly runtime: 'kubernetes';
  readonly kubernetes: KubernetesTarget;
  /** How long a pod may stay unschedulable (the runner's COOK_ACTION_SCHEDULING_TIMEOUT). */
  readonly schedulingTimeoutMs?: number;
}

export type Settings = DockerSettings | LocalSettings | KubernetesSettings;

/** Reads one raw input (untrimmed, '' when unset). */
export type InputSource = (name: InputName) => string;

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingsDeps {
  readonly randomId?: () => string;
  readonly cwd?: string;
  readonly tmpdir?: string;
  /** Told every secret value as soon as it is read, before anything can print it. */
  readonly onSecret?: (value: string) => void;
}

/** Names of the runner's variables a child process must not inherit. */
const PRIVATE_ENV = /^(INPUT_|STATE_|ACTIONS_|GITHUB_(OUTPUT|STATE|ENV|PATH|STEP_SUMMARY|TOKEN)$)/;

export function buildSettings(input: InputSource, env: Env, deps: SettingsDeps = {}): Settings {
  const get = (name: InputName) => input(name);
  const trimmed = (name: InputName) => input(name).trim();

  // Secrets come first so that no later error can print a value before it is known to be secret.
  const secrets = parseKeyValueLines(Inputs.secrets, get(Inputs.secrets), true);
  for (const value of secrets.values()) deps.onSecret?.(value);
  const registryPassword = input(Inputs.registryPassword);
  if (registryPassword.trim() !== '') deps.onSecret?.(registryPassword);
  const plainEnv = parseKeyValueLines(Inputs.env, get(Inputs.env), false);

  const runtime = parseChoice(Inputs.runtime, get(Inputs.runtime), RUNTIMES, 'docker');

  const cwd = deps.cwd ?? process.cwd();
  const workspace = resolveWorkspace(trimmed(Inputs.workspace), env.GITHUB_WORKSPACE, cwd);
  const workload = resolveWorkload(
    trimmed(Inputs.workflow),
    get(Inputs.command),
    get(Inputs.args),
    workspace,
    {
      gitMerge: parseBoolean(Inputs.gitMerge, get(Inputs.gitMerge), false),
      verbosity: parseVerbosity(get(Inputs.verbosity)),
    },
  );
  const timeoutMs = parseDuration(Inputs.timeout, get(Inputs.timeout));
  const claudeLimits = parseClaudeLimits(input, workload);
  const { shard, maxParallel } = splitting(input, workload, workspace);

  const runId = (deps.randomId ?? (() => randomBytes(5).toString('hex')))();
  const tempRoot = env.RUNNER_TEMP || deps.tmpdir || os.tmpdir();
  const runDir = path.join(tempRoot, 'cook-action', runId);
  const github: GitHubContext = {
    inActions: env.GITHUB_ACTIONS === 'true',
    runId: env.GITHUB_RUN_ID,
    runAttempt: env.GITHUB_RUN_ATTEMPT,
    job: env.GITHUB_JOB,
    repository: env.GITHUB_REPOSITORY,
    actor: env.GITHUB_ACTOR || env.USER,
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    artifactService: Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL),
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    ...optional('workflow', env.GITHUB_WORKFLOW ?? ''),
    ...pullRequestOf(env.GITHUB_EVENT_PATH),
  };
  const githubWithRun: GitHubContext =
    github.repository && github.runId
      ? {
          ...github,
          runUrl: `${github.serverUrl.replace(/\/+$/, '')}/${github.repository}/actions/runs/${github.runId}${github.runAttempt ? `/attempts/${github.runAttempt}` : ''}`,
        }
      : github;
  const githubToken = input(Inputs.githubToken).trim();
  if (githubToken !== '') deps.onSecret?.(githubToken);
  const comment = parseBoolean(Inputs.comment, get(Inputs.comment), false);
  if (comment && githubToken === '') {
    throw new InputError(
      Inputs.githubToken,
      '',
      `a token that may write pull-request comments, when '${Inputs.comment}' is true`,
    );
  }
  const rawRetention = trimmed(Inputs.retentionDays);
  if (rawRetention !== '' && !/^\d+$/.test(rawRetention)) {
    throw new InputError(Inputs.retentionDays, rawRetention, 'a whole number of days from 1 to 90');
  }
  const retentionDays = rawRetention === '' ? undefined : Number(rawRetention);
  if (retentionDays !== undefined && (retentionDays < 1 || retentionDays > 90)) {
    throw new InputError(Inputs.retentionDays, rawRetention, 'a whole number of days from 1 to 90');
  }

  const common: CommonSettings = {
    runId,
    workload,
    workspace,
    env: plainEnv,
    secrets,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(claudeLimits ? { claudeLimits } : {}),
    artifacts: parseLines(get(Inputs.artifacts)),
    ...optional('artifactName', trimmed(Inputs.artifactName)),
    ...(retentionDays === undefined ? {} : { retentionDays }),
    transferLimit: parseSize(Inputs.transferLimit, get(Inputs.transferLimit)) ?? {
      bytes: 4 * 1024 ** 3,
      text: '4Gi',
    },
    comment,
    ...optional('githubToken', githubToken),
    ...(shard ? { shard } : {}),
    ...(maxParallel === undefined ? {} : { maxParallel }),
    summary: parseBoolean(Inputs.summary, get(Inputs.summary), true),
    dryRun: parseBoolean(Inputs.dryRun, get(Inputs.dryRun), false),
    runDir,
    logPath: path.join(runDir, 'output.log'),
    github: githubWithRun,
  };
  // Validated for every runtime, so a typo fails the same way wherever it runs.
  parseNonNegativeInteger(Inputs.ttlSeconds, get(Inputs.ttlSeconds), 3600);
  const kube =
    runtime === 'kubernetes'
      ? kubernetesInputs(input, workspace, (value) => deps.onSecret?.(value), env)
      : undefined;
  const container = containerSettings(input, kube?.image);

  if (runtime === 'local') {
    const containerOnly: InputName[] = [
      Inputs.image,
      Inputs.cpu,
      Inputs.memory,
      Inputs.gpus,
      Inputs.user,
      Inputs.capabilities,
      Inputs.registryUsername,
    ];
    const ignoredInputs = containerOnly.filter((name) => trimmed(name) !== '');
    if (container.network !== 'bridge') ignoredInputs.push(Inputs.network);
    return Object.freeze({
      ...common,
      runtime,
      hostEnv: hostEnvironment(env),
      ignoredInputs,
    });
  }
  if (runtime === 'kubernetes') {
    return Object.freeze({
      ...common,
      ...container,
      runtime,
      kubernetes: kube!.target,
      ...schedulingTimeout(env.COOK_ACTION_SCHEDULING_TIMEOUT),
    });
  }
  return Object.freeze({ ...common, ...container, runtime, docker: dockerConnection(env) });
}

/** COOK_ACTION_SCHEDULING_TIMEOUT: seconds a pod may stay unschedulable (default 120). */
function schedulingTimeout(value: string | undefined): { schedulingTimeoutMs?: number } {
  if (value === undefined || value.trim() === '') return {};
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(
      `COOK_ACTION_SCHEDULING_TIMEOUT has invalid value ${JSON.stringify(value)}: expected a number of seconds above 0`,
    );
  }
  return { schedulingTimeoutMs: seconds * 1000 };
}

function containerSettings(
  input: InputSource,
  clusterImage: string | undefined,
): ContainerSettings {
  const trimmed = (name: InputName) => input(name).trim();
  const username = trimmed(Inputs.registryUsername);
  const password = input(Inputs.registryPassword);
  if ((username === '') !== (password === '')) {
    throw new InputError(
      username === '' ? Inputs.registryUsername : Inputs.registryPassword,
      undefined,
      `'${Inputs.registryUsername}' and '${Inputs.registryPassword}' must be given together`,
    );
  }
  const user = trimmed(Inputs.user);
  if (user !== '' && !/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(user)) {
    throw new InputError(Inputs.user, user, 'a user name or id, optionally with :group');
  }
  const image = trimmed(Inputs.image) || clusterImage || DEFAULT_IMAGE;
  if (/\s/.test(image) || !/^[a-z0-9]/i.test(image)) {
    throw new InputError(Inputs.image, image, 'an image reference such as debian:bookworm-slim');
  }
  const cpu = parseCpu(Inputs.cpu, input(Inputs.cpu));
  const memory = parseMemory(Inputs.memory, input(Inputs.memory));
  const gpus = parseGpus(Inputs.gpus, input(Inputs.gpus));
  return {
    image,
    pullPolicy: parseChoice(
      Inputs.pullPolicy,
      input(Inputs.pullPolicy),
      PULL_POLICIES,
      'if-not-present',
    ),
    ...(username === '' ? {} : { registryAuth: { username, password } }),
    ...(cpu ? { cpu } : {}),
    ...(memory ? { memory } : {}),
    ...(gpus === undefined ? {} : { gpus }),
    network: parseChoice(Inputs.network, input(Inputs.network), NETWORKS, 'bridge'),
    ...optional('user', user),
    capabilities: parseCapabilities(input(Inputs.capabilities)),
  };
}

function resolveWorkspace(raw: string, githubWorkspace: string | undefined, cwd: string): string {
  const workspace = path.resolve(cwd, raw || githubWorkspace || cwd);
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
    throw new InputError(Inputs.workspace, raw || workspace, 'an existing folder');
  }
  return workspace;
}

/** `max-cost-usd` and `max-turns`: caps on what the step's Claude sessions use in all. */
function parseClaudeLimits(input: InputSource, workload: Workload): ClaudeLimits | undefined {
  const rawCost = input(Inputs.maxCostUsd).trim();
  const rawTurns = input(Inputs.maxTurns).trim();
  if (rawCost === '' && rawTurns === '') return undefined;
  const limits: { maxCostUsd?: number; maxTurns?: number } = {};
  if (rawCost !== '') {
    const cost = /^(\d+(\.\d*)?|\.\d+)$/.test(rawCost) ? Number(rawCost) : NaN;
    if (!(cost > 0)) {
      throw new InputError(
        Inputs.maxCostUsd,
        rawCost,
        'a number of US dollars above 0, such as 5 or 0.50 (what Claude may cost in all)',
      );
    }
    limits.maxCostUsd = cost;
  }
  if (rawTurns !== '') {
    if (
      !/^\d+$/.test(rawTurns) ||
      Number(rawTurns) < 1 ||
      !Number.isSafeInteger(Number(rawTurns))
    ) {
      throw new InputError(
        Inputs.maxTurns,
        rawTurns,
        "a whole number of Claude's turns from 1 up (what Claude may take in all)",
      );
    }
    limits.maxTurns = Number(rawTurns);
  }
  if (workload.kind !== 'prodigy') {
    const name = rawCost !== '' ? Inputs.maxCostUsd : Inputs.maxTurns;
    throw new InputError(
      name,
      undefined,
      `it caps the Claude of a Prodigy workflow ('${Inputs.workflow}'), and a '${Inputs.command}' runs none the action can count`,
    );
  }
  return limits;
}

/** `verbosity`: how many `-v` Prodigy gets (1 shows the workflow's shell output). */
function parseVerbosity(raw: string): number {
  const text = raw.trim();
  if (text === '') return 0;
  if (/^[0-3]$/.test(text)) return Number(text);
  throw new InputError(
    Inputs.verbosity,
    raw,
    "0 (Prodigy's own progress), 1 (also every step's output, and Prodigy's debug lines), 2 or 3 (tracing)",
  );
}

function resolveWorkload(
  workflow: string,
  command: string,
  rawArgs: string,
  workspace: string,
  prodigy: { readonly gitMerge: boolean; readonly verbosity: number },
): Workload {
  let relative: string | undefined;
  if (workflow !== '') {
    const absolute = path.resolve(workspace, workflow);
    relative = path.relative(workspace, absolute);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new InputError(Inputs.workflow, workflow, `a file inside the workspace (${workspace})`);
    }
    if (!existsSync(absolute) || !statSync(absolute).isFile()) {
      throw new InputError(
        Inputs.workflow,
        workflow,
        `a Prodigy workflow file, relative to the workspace (${workspace}); no such file`,
      );
    }
    relative = relative.split(path.sep).join('/');
  }
  if (command.trim() !== '') {
    return { kind: 'command', command, ...(relative ? { workflow: relative } : {}) };
  }
  if (relative === undefined) {
    throw new InputError(
      Inputs.workflow,
      '',
      `a workflow file to run with Prodigy, or a '${Inputs.command}' to run instead`,
    );
  }
  if (!existsSync(path.join(workspace, '.git'))) {
    throw new InputError(
      Inputs.workspace,
      workspace,
      'a git checkout: Prodigy runs workflows in a git repository (check the repository out first)',
    );
  }
  const verbose = prodigy.verbosity > 0 ? [`-${'v'.repeat(prodigy.verbosity)}`] : [];
  return {
    kind: 'prodigy',
    workflow: relative,
    args: [...parseArgs(Inputs.args, rawArgs), ...verbose],
    gitMerge: prodigy.gitMerge,
  };
}

/** `shard` or `max-parallel`: either one, for a MapReduce workflow run by Prodigy. */
function splitting(
  input: InputSource,
  workload: Workload,
  workspace: string,
): { shard?: ShardEntry; maxParallel?: number } {
  const rawShard = input(Inputs.shard).trim();
  const rawParallel = input(Inputs.maxParallel).trim();
  if (rawShard === '' && rawParallel === '') return {};
  const name = rawShard !== '' ? Inputs.shard : Inputs.maxParallel;
  const shown = name === Inputs.shard ? rawShard.slice(0, 80) : rawParallel;
  if (rawShard !== '' && rawParallel !== '') {
    throw new InputError(
      Inputs.maxParallel,
      rawParallel,
      `nothing when '${Inputs.shard}' is given: a shard from a plan runs on its own`,
    );
  }
  if (workload.kind !== 'prodigy') {
    throw new InputError(
      name,
      shown,
      `a '${Inputs.workflow}' to split (a MapReduce workflow run by Prodigy), not a '${Inputs.command}'`,
    );
  }
  const text = readFileSync(path.join(workspace, workload.workflow), 'utf8');
  if (!isMapReduceText(text)) {
    throw new InputError(
      name,
      shown,
      `a MapReduce workflow to split; ${workload.workflow} is a standard workflow (no 'mode: mapreduce')`,
    );
  }
  if (rawShard !== '') {
    const shard = parseShardEntry(rawShard);
    if (shard.workflow !== workload.workflow) {
      throw new InputError(
        Inputs.shard,
        shard.name,
        `a shard planned for this workflow; it was planned for ${shard.workflow}, and '${Inputs.workflow}' is ${workload.workflow}`,
      );
    }
    return { shard };
  }
  if (!/^\d+$/.test(rawParallel) || Number(rawParallel) < 1 || Number(rawParallel) > 256) {
    throw new InputError(Inputs.maxParallel, rawParallel, 'a whole number of shards from 1 to 256');
  }
  return { maxParallel: Number(rawParallel) };
}

/** The pull request's number from the event payload, for pull_request events (and the like). */
function pullRequestOf(eventPath: string | undefined): { pullRequest?: number } {
  if (!eventPath || !existsSync(eventPath)) return {};
  try {
    const event = JSON.parse(readFileSync(eventPath, 'utf8')) as {
      pull_request?: { number?: unknown };
      issue?: { number?: unknown; pull_request?: unknown };
    };
    const number =
      event.pull_request?.number ??
      (event.issue?.pull_request !== undefined ? event.issue.number : undefined);
    return typeof number === 'number' && Number.isInteger(number) ? { pullRequest: number } : {};
  } catch {
    return {};
  }
}

function hostEnvironment(env: Env): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !PRIVATE_ENV.test(key)) result[key] = value;
  }
  return result;
}

/** DOCKER_HOST as the docker CLI reads it. */
export function dockerConnection(env: Env): DockerConnection {
  const raw = env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock';
  if (raw.startsWith('unix://')) return { kind: 'socket', socketPath: raw.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(raw);
  if (tcp) {
    const tls = env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
    const certPath = env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
    return {
      kind: 'tcp',
      host: tcp[1]!.replace(/^\[|\]$/g, ''),
      port: Number(tcp[2]),
      ...(tls ? { tlsCertPath: certPath } : {}),
    };
  }
  throw new Error(
    `DOCKER_HOST has value ${JSON.stringify(raw)}: expected unix:///path/to/socket or tcp://host:port`,
  );
}

function optional<K extends string>(key: K, value: string): { [P in K]?: string } {
  return (value === '' ? {} : { [key]: value }) as { [P in K]?: string };
}

/** Renders a DockerConnection back into DOCKER_HOST form, for state and messages. */
export function dockerHostString(connection: DockerConnection): string {
  return connection.kind === 'socket'
    ? `unix://${connection.socketPath}`
    : `tcp://${connection.host}:${connection.port}`;
}
