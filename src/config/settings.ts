/**
 * Turns the action's inputs and environment into one validated, read-only Settings value. The
 * only module that reads inputs or process.env (docs/ARCHITECTURE.md).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ContainerSettings,
  containerSettings,
  ignoredContainerInputs,
} from './container-settings.js';
import { InputError } from './errors.js';
import { kubernetesInputs, type KubernetesTarget } from './kubernetes.js';
import { Inputs, type InputName } from './names.js';
import type { ShardEntry } from './shard.js';
import {
  type MemoryQuantity,
  optional,
  parseBoolean,
  parseChoice,
  parseDuration,
  parseSize,
  parseKeyValueLines,
  parseLines,
  parseNonNegativeInteger,
} from './parse.js';
import {
  type ClaudeLimits,
  parseClaudeLimits,
  readWorkload,
  splitting,
  type Workload,
} from './workload.js';

export const RUNTIMES = ['docker', 'kubernetes', 'local'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];

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
  const secrets = readSecrets(input, deps);
  const plainEnv = parseKeyValueLines(Inputs.env, get(Inputs.env), false);

  const runtime = parseChoice(Inputs.runtime, get(Inputs.runtime), RUNTIMES, 'docker');

  const cwd = deps.cwd ?? process.cwd();
  const workspace = resolveWorkspace(trimmed(Inputs.workspace), env.GITHUB_WORKSPACE, cwd);
  const workload = readWorkload(input, workspace);
  const timeoutMs = parseDuration(Inputs.timeout, get(Inputs.timeout));
  const claudeLimits = parseClaudeLimits(input, workload);
  const { shard, maxParallel } = splitting(input, workload, workspace, runtime);

  const runId = (deps.randomId ?? (() => randomBytes(5).toString('hex')))();
  const tempRoot = env.RUNNER_TEMP || deps.tmpdir || os.tmpdir();
  const runDir = path.join(tempRoot, 'cook-action', runId);
  const github = githubContext(env);
  const { comment, githubToken } = commentInputs(input, deps);
  const retentionDays = parseRetentionDays(trimmed(Inputs.retentionDays));

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
    github,
  };
  return runtimeSettings(runtime, common, input, env, deps);
}

/** The workload's secrets, and the registry's password: each told to onSecret as it is read. */
function readSecrets(input: InputSource, deps: SettingsDeps): ReadonlyMap<string, string> {
  const secrets = parseKeyValueLines(Inputs.secrets, input(Inputs.secrets), true);
  for (const value of secrets.values()) deps.onSecret?.(value);
  const registryPassword = input(Inputs.registryPassword);
  if (registryPassword.trim() !== '') deps.onSecret?.(registryPassword);
  return secrets;
}

/** The surrounding GitHub Actions run, read from its variables, with the link to its page. */
function githubContext(env: Env): GitHubContext {
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
  return github.repository && github.runId
    ? {
        ...github,
        runUrl: `${github.serverUrl.replace(/\/+$/, '')}/${github.repository}/actions/runs/${github.runId}${github.runAttempt ? `/attempts/${github.runAttempt}` : ''}`,
      }
    : github;
}

/** `comment` and `github-token`: the pull-request comment, and the token it needs (masked). */
function commentInputs(
  input: InputSource,
  deps: SettingsDeps,
): { readonly comment: boolean; readonly githubToken: string } {
  const githubToken = input(Inputs.githubToken).trim();
  if (githubToken !== '') deps.onSecret?.(githubToken);
  const comment = parseBoolean(Inputs.comment, input(Inputs.comment), false);
  if (comment && githubToken === '') {
    throw new InputError(
      Inputs.githubToken,
      '',
      `a token that may write pull-request comments, when '${Inputs.comment}' is true`,
    );
  }
  return { comment, githubToken };
}

/** `retention-days`: days the artifact is kept, from 1 to 90; unset means the repository's. */
function parseRetentionDays(rawRetention: string): number | undefined {
  if (rawRetention !== '' && !/^\d+$/.test(rawRetention)) {
    throw new InputError(Inputs.retentionDays, rawRetention, 'a whole number of days from 1 to 90');
  }
  const retentionDays = rawRetention === '' ? undefined : Number(rawRetention);
  if (retentionDays !== undefined && (retentionDays < 1 || retentionDays > 90)) {
    throw new InputError(Inputs.retentionDays, rawRetention, 'a whole number of days from 1 to 90');
  }
  return retentionDays;
}

/** The common part completed for the runtime: a local process's, a cluster's or Docker's. */
function runtimeSettings(
  runtime: RuntimeKind,
  common: CommonSettings,
  input: InputSource,
  env: Env,
  deps: SettingsDeps,
): Settings {
  // Validated for every runtime, so a typo fails the same way wherever it runs.
  parseNonNegativeInteger(Inputs.ttlSeconds, input(Inputs.ttlSeconds), 3600);
  const kube =
    runtime === 'kubernetes'
      ? kubernetesInputs(input, common.workspace, (value) => deps.onSecret?.(value), env)
      : undefined;
  const container = containerSettings(input, kube?.image);

  if (runtime === 'local') {
    const ignoredInputs = ignoredContainerInputs(input, container);
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

function resolveWorkspace(raw: string, githubWorkspace: string | undefined, cwd: string): string {
  const workspace = path.resolve(cwd, raw || githubWorkspace || cwd);
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
    throw new InputError(Inputs.workspace, raw || workspace, 'an existing folder');
  }
  return workspace;
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

/** Renders a DockerConnection back into DOCKER_HOST form, for state and messages. */
export function dockerHostString(connection: DockerConnection): string {
  return connection.kind === 'socket'
    ? `unix://${connection.socketPath}`
    : `tcp://${connection.host}:${connection.port}`;
}
