/** The container's part of the settings: its image, limits, network, user and capabilities. */
import { parseCapabilities } from './capabilities.js';
import { InputError } from './errors.js';
import { DEFAULT_IMAGE, Inputs, type InputName } from './names.js';
import {
  type CpuQuantity,
  type GpuRequest,
  type MemoryQuantity,
  optional,
  parseChoice,
  parseCpu,
  parseGpus,
  parseMemory,
} from './parse.js';

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const NETWORKS = ['bridge', 'none', 'isolated', 'host'] as const;
export type NetworkMode = (typeof NETWORKS)[number];

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

/** Reads the container's inputs; an unset `image` falls back to clusterImage, then the default. */
export function containerSettings(
  input: (name: InputName) => string,
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

/** Container-only inputs that were set and that a local process cannot honour. */
export function ignoredContainerInputs(
  input: (name: InputName) => string,
  container: ContainerSettings,
): InputName[] {
  const containerOnly: InputName[] = [
    Inputs.image,
    Inputs.cpu,
    Inputs.memory,
    Inputs.gpus,
    Inputs.user,
    Inputs.capabilities,
    Inputs.registryUsername,
  ];
  const ignoredInputs = containerOnly.filter((name) => input(name).trim() !== '');
  if (container.network !== 'bridge') ignoredInputs.push(Inputs.network);
  return ignoredInputs;
}
