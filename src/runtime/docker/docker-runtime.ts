/** The Docker runtime: one container on the runner's engine, through dockerode. */
import { readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { Labels } from '../../config/names.js';
import type { DockerConnection } from '../../config/settings.js';
import type {
  ContainerRuntime,
  ContainerSpec,
  ExitStatus,
  OutputChunk,
  RunSpec,
  RunningWorkload,
  WorkloadMetrics,
} from '../types.js';
import { engineCall, waitForExit } from './engine.js';
import { dockerMessage, ignoreGone, statusCode } from './errors.js';
import { ensureImage } from './image.js';
import { attachOutput, relayAttached } from './attach.js';
import { dockerLogSource, followLogs } from './log-follower.js';
import { StatsFollower } from './stats.js';
import { isConnectionDrop } from '../log-cursor.js';
import { parseUsage, usageWrapper } from '../usage.js';
import { ReadLimits, readUntrustedTextIfAny } from '../../results/untrusted.js';

/** Where the container sees the run's control folder (RunSpec.controlDir). */
const CONTROL_TARGET = '/.cook-action';
/** The file there in which the workload's shell leaves its cgroup counters. */
const USAGE_FILE = 'usage';

export function createDockerClient(connection: DockerConnection): Docker {
  if (connection.kind === 'socket') return new Docker({ socketPath: connection.socketPath });
  const tls = connection.tlsCertPath;
  return new Docker({
    host: connection.host,
    port: connection.port,
    protocol: tls ? 'https' : 'http',
    ...(tls
      ? {
          ca: readFileSync(path.join(tls, 'ca.pem')),
          cert: readFileSync(path.join(tls, 'cert.pem')),
          key: readFileSync(path.join(tls, 'key.pem')),
        }
      : {}),
  });
}

export function createDockerRuntime(connection: DockerConnection): ContainerRuntime {
  return new DockerRuntime(createDockerClient(connection));
}

/** Docker's create-container body for a spec. Pure, so dry-run shows exactly what would be sent. */
export function containerCreateOptions(
  spec: RunSpec,
  networkName: string | undefined,
): Docker.ContainerCreateOptions {
  const container = spec.container;
  if (!container) throw new Error('The Docker runtime needs a container spec (image, limits).');
  const [program, ...rest] = spec.argv;
  const env = { ...spec.env, ...spec.secretEnv };
  return {
    name: spec.name,
    Image: container.image,
    // The whole command replaces the image's entrypoint: `command` means exactly that command,
    // in a shell that passes signals on and leaves its cgroup counters behind (runtime/usage.ts).
    Entrypoint: [
      'sh',
      '-c',
      usageWrapper(`${CONTROL_TARGET}/${USAGE_FILE}`),
      'cook-workload',
      program!,
    ],
    Cmd: rest,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    WorkingDir: spec.workdir,
    Labels: { ...spec.labels },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(container.user ? { User: container.user } : {}),
    HostConfig: hostConfig(spec, container, networkName),
  };
}

/** The container's host side: its mounts, network, least privilege, log, limits and GPUs. */
function hostConfig(
  spec: RunSpec,
  container: ContainerSpec,
  networkName: string | undefined,
): Docker.HostConfig {
  const memory = container.memory?.bytes;
  return {
    Binds: [
      ...spec.mounts.map((m) => `${m.host}:${m.target}${m.readOnly ? ':ro' : ''}`),
      ...(spec.controlDir ? [`${spec.controlDir}:${CONTROL_TARGET}`] : []),
    ],
    NetworkMode: networkName ?? container.network,
    // Least privilege (config/capabilities.ts): every capability dropped but the kept ones,
    // and no setuid binary or file capability grants more than the process started with.
    CapDrop: ['ALL'],
    CapAdd: [...container.capabilities],
    SecurityOpt: ['no-new-privileges'],
    // An init as PID 1 passes SIGTERM on to the workload, so a timeout or cancellation stops
    // it at once instead of waiting out the grace period for a shell that ignores signals.
    Init: true,
    // json-file with no rotation: the log is read back from the engine, and a rotated file
    // would lose lines.
    LogConfig: { Type: 'json-file', Config: {} },
    ...(container.cpu ? { NanoCpus: Math.round(container.cpu.millicores * 1_000_000) } : {}),
    // Swap equal to memory: the limit is the limit, as on Kubernetes.
    ...(memory ? { Memory: memory, MemorySwap: memory } : {}),
    ...(container.gpus !== undefined
      ? {
          DeviceRequests: [
            {
              Driver: '',
              Count: container.gpus === 'all' ? -1 : container.gpus,
              Capabilities: [['gpu']],
            },
          ],
        }
      : {}),
  };
}

class DockerRuntime implements ContainerRuntime {
  readonly kind = 'docker' as const;
  private networkName: string | undefined;
  private pullSeconds: number | undefined;
  /** Set by cleanup(): a prepare() still pulling must not create anything afterwards. */
  private closed = false;
  private readonly created: { containers: string[]; networks: string[] } = {
    containers: [],
    networks: [],
  };

  constructor(private readonly docker: Docker) {}

  describe(spec: RunSpec): string {
    const body = containerCreateOptions(
      spec,
      spec.container?.network === 'isolated' ? spec.name : undefined,
    );
    const hidden = new Set(Object.keys(spec.secretEnv));
    const shown = {
      ...body,
      Env: body.Env?.map((line) => {
        const key = line.slice(0, line.indexOf('='));
        return hidden.has(key) ? `${key}=***` : line;
      }),
    };
    const network =
      spec.container?.network === 'isolated'
        ? `\nPOST /networks/create ${JSON.stringify({ Name: spec.name, Driver: 'bridge', Labels: spec.labels }, null, 2)}`
        : '';
    return `POST /containers/create ${JSON.stringify(shown, null, 2)}${network}`;
  }

  async prepare(spec: RunSpec, log: (message: string) => void): Promise<void> {
    const container = spec.container;
    if (!container) throw new Error('The Docker runtime needs a container spec.');
    try {
      await engineCall('ping', () => this.docker.ping(), { retries: 2, deadlineMs: 10_000 });
    } catch (error) {
      throw new Error(
        `The Docker engine does not answer (${dockerMessage(error)}). Is Docker running, and DOCKER_HOST right?`,
        { cause: error },
      );
    }
    const pullStart = Date.now();
    if (spec.controlDir) {
      await mkdir(spec.controlDir, { recursive: true });
      // The workload may run as any user.
      await chmod(spec.controlDir, 0o777);
    }
    await ensureImage(this.docker, container, log);
    this.pullSeconds = (Date.now() - pullStart) / 1000;
    this.assertOpen();
    if (container.network === 'isolated') {
      const name = spec.name;
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { ...spec.labels },
        });
      } catch (error) {
        throw new Error(`Creating network ${name}: ${dockerMessage(error)}`, { cause: error });
      }
      this.created.networks.push(name);
      this.networkName = name;
      log(`Created network ${name} for this run alone.`);
    }
  }

  async start(spec: RunSpec): Promise<RunningWorkload> {
    this.assertOpen();
    const startedAt = Date.now();
    let container: Docker.Container;
    try {
      container = await this.createContainer(spec);
    } catch (error) {
      throw new Error(`Creating the container: ${dockerMessage(error)}`, { cause: error });
    }
    this.created.containers.push(container.id);
    // Attached before it starts, as docker run does: its first byte is on its way at once.
    const attached = await attachOutput(container);
    try {
      // 304: an earlier attempt, whose answer was lost, started it already.
      await engineCall('start', () => ignoreGone(() => container.start()));
    } catch (error) {
      attached?.destroy();
      throw new Error(`Starting the container: ${dockerMessage(error)}`, { cause: error });
    }
    return new DockerWorkload(
      container,
      this.docker,
      {
        ...(this.pullSeconds === undefined ? {} : { pull_seconds: this.pullSeconds }),
        start_seconds: (Date.now() - startedAt) / 1000,
      },
      spec.controlDir,
      attached,
    );
  }

  /**
   * Creates the container; when the connection drops before the answer, the name tells whether
   * the engine created it anyway (a second create is refused with 409).
   */
  private async createContainer(spec: RunSpec): Promise<Docker.Container> {
    const options = containerCreateOptions(spec, this.networkName);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.docker.createContainer(options);
      } catch (error) {
        const lost = isConnectionDrop(error) && attempt < 5;
        if (lost) {
          await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
          continue;
        }
        if (statusCode(error) === 409 && attempt > 0) {
          const info = await engineCall('inspect', () =>
            this.docker.getContainer(spec.name).inspect(),
          );
          if (info.Config.Labels?.[Labels.run] === spec.labels[Labels.run])
            return this.docker.getContainer(info.Id);
        }
        throw error;
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The run was cleaned up; nothing more is created.');
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    const failures: string[] = [];
    for (const id of this.created.containers.splice(0)) {
      await engineCall('remove', () =>
        ignoreGone(() => this.docker.getContainer(id).remove({ force: true, v: true })),
      ).catch((error: unknown) =>
        failures.push(`container ${id.slice(0, 12)}: ${dockerMessage(error)}`),
      );
    }
    for (const name of this.created.networks.splice(0)) {
      await engineCall('remove network', () =>
        ignoreGone(() => this.docker.getNetwork(name).remove()),
      ).catch((error: unknown) => failures.push(`network ${name}: ${dockerMessage(error)}`));
    }
    if (failures.length > 0) throw new Error(`Could not remove ${failures.join('; ')}`);
  }

  async sweep(runId: string): Promise<string[]> {
    const filters = { label: [`${Labels.run}=${runId}`] };
    const removed: string[] = [];
    const containers = await engineCall('list containers', () =>
      this.docker.listContainers({ all: true, filters }),
    );
    for (const info of containers) {
      await engineCall('remove', () =>
        ignoreGone(() => this.docker.getContainer(info.Id).remove({ force: true, v: true })),
      );
      removed.push(`container ${info.Names[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12)}`);
    }
    const networks = await engineCall('list networks', () => this.docker.listNetworks({ filters }));
    for (const info of networks) {
      await engineCall('remove network', () =>
        ignoreGone(() => this.docker.getNetwork(info.Id).remove()),
      );
      removed.push(`network ${info.Name}`);
    }
    return removed;
  }
}

class DockerWorkload implements RunningWorkload {
  readonly id: string;
  private readonly stats: StatsFollower;

  constructor(
    private readonly container: Docker.Container,
    private readonly docker: Docker,
    private readonly phases: { pull_seconds?: number; start_seconds: number },
    private readonly controlDir: string | undefined,
    private attached: Readable | undefined,
  ) {
    this.id = container.id;
    this.stats = new StatsFollower(container);
  }

  async metrics(): Promise<WorkloadMetrics> {
    const sampled = await this.stats.stop();
    const counted = this.controlDir
      ? parseUsage(
          await readUntrustedTextIfAny(path.join(this.controlDir, USAGE_FILE), {
            what: 'the usage counters',
            maxBytes: ReadLimits.usage,
            root: this.controlDir,
          }).catch(() => undefined),
        )
      : undefined;
    // The counters are exact; network comes from the samples when the counters lack it.
    const usage = counted
      ? {
          ...(sampled?.networkRxBytes === undefined
            ? {}
            : { networkRxBytes: sampled.networkRxBytes, networkTxBytes: sampled.networkTxBytes }),
          ...counted,
        }
      : sampled;
    let run: number | undefined;
    try {
      const inspected = await engineCall('inspect', () => this.container.inspect());
      const state = inspected.State;
      const started = Date.parse(state.StartedAt);
      const finished = Date.parse(state.FinishedAt);
      // The engine's own clock, to the nanosecond (Date keeps the millisecond).
      if (started > 0 && finished >= started) run = (finished - started) / 1000;
    } catch {
      // Gone already: the run's own clock stands in (cook.ts).
    }
    return {
      phases: { ...this.phases, ...(run === undefined ? {} : { run_seconds: run }) },
      ...(usage ? { usage } : {}),
    };
  }

  output(onChunk: (chunk: OutputChunk) => void, signal?: AbortSignal): Promise<void> {
    const source = dockerLogSource(this.container, this.docker.modem);
    const attached = this.attached;
    this.attached = undefined;
    if (attached) return relayAttached(attached, source, onChunk, signal);
    return followLogs(source, onChunk, { ...(signal ? { signal } : {}) });
  }

  async wait(): Promise<ExitStatus> {
    // A dropped wait connection is not an exit: ask again until the engine says it ended; the
    // state is then read from the engine, never from the wait's own answer alone.
    await waitForExit(this.docker.modem, this.id);
    const state = (await engineCall('inspect', () => this.container.inspect())).State;
    return {
      exitCode: typeof state.ExitCode === 'number' && !state.Running ? state.ExitCode : undefined,
      oomKilled: state.OOMKilled,
      ...(state.Error ? { error: state.Error } : {}),
    };
  }

  async stop(graceSeconds: number): Promise<void> {
    await engineCall(
      'stop',
      () => ignoreGone(() => this.container.stop({ t: graceSeconds })),
      // The engine answers a stop only after the grace period.
      { deadlineMs: (graceSeconds + 30) * 1000 },
    );
  }
}
