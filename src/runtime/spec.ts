/** Settings → RunSpec: what runs, where, with which environment. Pure apart from the host lookups. */
import { lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { Labels } from '../config/names.js';
import { CONTAINER_GIT_OBJECTS, runGitFolder } from '../results/container-git.js';
import type { DockerSettings, KubernetesSettings, Settings } from '../config/settings.js';
import { prodigyLaunch, runBranch } from '../workflow/prodigy.js';
import type { ContainerSpec, RunSpec } from './types.js';

/** Every workload gets its run's id in this variable; the local runtime finds its processes by it. */
export const RUN_ID_VARIABLE = 'COOK_ACTION_RUN_ID';

/** Paths as a container sees them. */
export const CONTAINER_WORKSPACE = '/workspace';
export const CONTAINER_PRODIGY_HOME = '/cook/prodigy-home';
/** Where a derived workflow and the files it trades with the action live, in a container. */
export const CONTAINER_EXCHANGE = '/cook/exchange';
const CONTAINER_HOME = '/tmp/cook-home';

/** Where the action keeps Prodigy's records for this run, on the host. */
export function prodigyHomeOnHost(settings: Settings): string {
  return prodigyHomeIn(settings.runDir);
}

/** Where Prodigy keeps its records for a run whose folder is runDir. */
export function prodigyHomeIn(runDir: string): string {
  return path.join(runDir, 'prodigy-home');
}

/** Where a local run's claude and its environment are written; removed after the run. */
export function runToolsDir(runDir: string): string {
  return path.join(runDir, 'tools');
}

/** The exchange folder of a derived workflow as the workload sees it. */
export function exchangeInWorkload(settings: Settings, hostExchange: string): string {
  return settings.runtime === 'local' ? hostExchange : CONTAINER_EXCHANGE;
}

export interface SpecHost {
  /** Owner of a host folder as "uid:gid". */
  readonly ownerOf: (folder: string) => string;
  /** Whether the path is a folder (not a link to one). */
  readonly isFolder: (file: string) => boolean;
}

const realHost: SpecHost = {
  ownerOf: (folder) => {
    const stats = statSync(folder);
    return `${stats.uid}:${stats.gid}`;
  },
  isFolder: (file) => lstatSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false,
};

export function buildRunSpec(settings: Settings, host: SpecHost = realHost): RunSpec {
  const inContainer = settings.runtime !== 'local';
  const workdir = inContainer ? CONTAINER_WORKSPACE : settings.workspace;
  const labels = runLabels(settings);

  const workload = settings.workload;
  const derived = workload.kind === 'prodigy' ? workload.derived : undefined;
  const workflowArg = derived
    ? path.posix.join(exchangeInWorkload(settings, derived.exchange), derived.file)
    : (workload.workflow ?? '');
  const { argv, defaults, user } = workloadLaunch(settings, host, workflowArg);
  const { env, secretEnv } = workloadEnv(settings, defaults);
  const mounts = specMounts(settings, host, derived);

  const workflowIndex = workload.kind === 'prodigy' ? argv.indexOf(workflowArg) : -1;
  return {
    runId: settings.runId,
    name: `cook-${settings.runId}`,
    labels,
    argv,
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    origin: {
      submitter: settings.github.actor ?? 'unknown',
      ...(settings.workload.workflow ? { workflow: settings.workload.workflow } : {}),
    },
    ...(settings.runtime === 'kubernetes' && settings.schedulingTimeoutMs !== undefined
      ? { schedulingTimeoutMs: settings.schedulingTimeoutMs }
      : {}),
    ...(workload.kind === 'prodigy' && workflowIndex >= 0
      ? {
          workflowFile: {
            host: derived
              ? path.join(derived.exchange, derived.file)
              : path.join(settings.workspace, workload.workflow),
            argIndex: workflowIndex,
          },
        }
      : {}),
    workdir,
    env,
    secretEnv,
    mounts,
    transferLimit: settings.transferLimit,
    ...(inContainer ? { controlDir: path.join(settings.runDir, 'control') } : {}),
    ...(settings.runtime === 'local' ? {} : { container: containerSpec(settings, user) }),
  };
}

/** The labels of everything the run creates: the run, its workflow, its GitHub run and job. */
function runLabels(settings: Settings): Record<string, string> {
  return {
    [Labels.managed]: 'true',
    [Labels.run]: settings.runGroup ?? settings.runId,
    ...(settings.workload.workflow
      ? { [Labels.workflow]: labelValue(settings.workload.workflow) }
      : {}),
    ...(settings.github.runId ? { [Labels.githubRun]: settings.github.runId } : {}),
    ...(settings.github.job ? { [Labels.githubJob]: labelValue(settings.github.job) } : {}),
  };
}

/** What the workload runs (Prodigy, or the command in a shell), the variables it needs, its user. */
function workloadLaunch(
  settings: Settings,
  host: SpecHost,
  workflowArg: string,
): {
  readonly argv: readonly string[];
  readonly defaults: Record<string, string>;
  readonly user: string | undefined;
} {
  const inContainer = settings.runtime !== 'local';
  const prodigyHome = inContainer ? CONTAINER_PRODIGY_HOME : prodigyHomeOnHost(settings);
  const workload = settings.workload;
  let user = settings.runtime === 'local' ? undefined : settings.user;
  if (workload.kind !== 'prodigy') {
    return { argv: ['sh', '-c', workload.command], defaults: {}, user };
  }
  // Unless told otherwise, Prodigy runs as the owner of the checkout: its commits and files
  // then belong to the runner's user, and git sees a repository owned by the one using it.
  const chooseUser = inContainer && user === undefined;
  if (chooseUser) user = host.ownerOf(settings.workspace);
  const launch = prodigyLaunch({
    branch: runBranch(settings),
    workflow: workflowArg,
    args: workload.args,
    prodigyHome,
    ...(chooseUser ? { home: CONTAINER_HOME } : {}),
    // In a container its own /tmp is the place; on the runner, the run's folder.
    ...(inContainer ? {} : { toolsDir: runToolsDir(settings.runDir) }),
    ...(settings.claudeLimits ? { limits: settings.claudeLimits } : {}),
  });
  return { argv: launch.argv, defaults: { ...launch.env }, user };
}

/** The workload's variables, plain and secret; a secret's name is never also a plain one. */
function workloadEnv(
  settings: Settings,
  defaults: Record<string, string>,
): { readonly env: Record<string, string>; readonly secretEnv: Record<string, string> } {
  // A checkout owned by another user than the container's is still a repository to work in.
  const gitSafeDirectory = {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: '*',
  };

  const env: Record<string, string> = {
    ...gitSafeDirectory,
    ...defaults,
    ...Object.fromEntries(settings.env),
    [RUN_ID_VARIABLE]: settings.runGroup ?? settings.runId,
  };
  const secretEnv = Object.fromEntries(settings.secrets);
  for (const key of Object.keys(secretEnv)) delete env[key];
  return { env, secretEnv };
}

/** The host folders a container sees: the workspace, its git, Prodigy's records, the exchange. */
function specMounts(
  settings: Settings,
  host: SpecHost,
  derived: { readonly exchange: string; readonly file: string } | undefined,
): RunSpec['mounts'] {
  const inContainer = settings.runtime !== 'local';
  // The checkout's .git is never the workload's: it gets a git folder of the run's own, with
  // the checkout's objects read-only (results/container-git.ts).
  const checkoutGit = path.join(settings.workspace, '.git');
  const gitMounts =
    inContainer && host.isFolder(checkoutGit)
      ? [
          { host: runGitFolder(settings.runDir), target: `${CONTAINER_WORKSPACE}/.git` },
          {
            host: path.join(checkoutGit, 'objects'),
            target: CONTAINER_GIT_OBJECTS,
            readOnly: true,
          },
        ]
      : [];
  return inContainer
    ? [
        { host: settings.workspace, target: CONTAINER_WORKSPACE },
        ...gitMounts,
        ...(settings.workload.kind === 'prodigy'
          ? [{ host: prodigyHomeOnHost(settings), target: CONTAINER_PRODIGY_HOME }]
          : []),
        ...(derived ? [{ host: derived.exchange, target: CONTAINER_EXCHANGE }] : []),
      ]
    : [];
}

/** The container a container runtime starts: image, limits, network, capabilities, user. */
function containerSpec(
  settings: DockerSettings | KubernetesSettings,
  user: string | undefined,
): ContainerSpec {
  return {
    image: settings.image,
    pullPolicy: settings.pullPolicy,
    network: settings.network,
    capabilities: settings.capabilities,
    ...(settings.registryAuth ? { registryAuth: settings.registryAuth } : {}),
    ...(settings.cpu ? { cpu: settings.cpu } : {}),
    ...(settings.memory ? { memory: settings.memory } : {}),
    ...(settings.gpus !== undefined ? { gpus: settings.gpus } : {}),
    ...(user ? { user } : {}),
  };
}

/** Label values are kept to what both Docker and Kubernetes accept (63 chars of [-._a-zA-Z0-9]). */
function labelValue(text: string): string {
  return text
    .replace(/[^-._a-zA-Z0-9]/g, '_')
    .slice(0, 63)
    .replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, '');
}
