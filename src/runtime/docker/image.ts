/** Makes the image present according to pull-policy, with registry credentials and progress. */
import type Docker from 'dockerode';
import type { ContainerSpec } from '../types.js';
import { dockerMessage, statusCode } from './errors.js';

interface PullEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** The registry host of an image reference, or undefined for Docker Hub. */
export function registryOf(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** Adds the tag Docker would assume, so a pull of `debian` does not fetch every tag. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSlash = image.lastIndexOf('/');
  return image.slice(lastSlash + 1).includes(':') ? image : `${image}:latest`;
}

export async function ensureImage(
  docker: Docker,
  spec: ContainerSpec,
  log: (message: string) => void,
): Promise<'present' | 'pulled'> {
  const present = await imagePresent(docker, spec.image);
  if (spec.pullPolicy === 'never') {
    if (present) return 'present';
    throw new Error(
      `Image ${spec.image} is not present on the Docker engine and pull-policy is 'never': build or load it first, or use pull-policy 'if-not-present'.`,
    );
  }
  if (present && spec.pullPolicy === 'if-not-present') {
    log(`Image ${spec.image} is present; not pulling (pull-policy: if-not-present).`);
    return 'present';
  }
  await pull(docker, spec, log);
  return 'pulled';
}

async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (statusCode(error) === 404) return false;
    throw new Error(`Inspecting image ${image}: ${dockerMessage(error)}`, { cause: error });
  }
}

async function pull(docker: Docker, spec: ContainerSpec, log: (message: string) => void) {
  const reference = withDefaultTag(spec.image);
  const registry = registryOf(spec.image);
  const authconfig = spec.registryAuth
    ? {
        username: spec.registryAuth.username,
        password: spec.registryAuth.password,
        ...(registry ? { serveraddress: registry } : {}),
      }
    : undefined;
  log(`Pulling ${reference}${authconfig ? ` as ${spec.registryAuth!.username}` : ''}…`);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(reference, authconfig ? { authconfig } : {});
  } catch (error) {
    throw new Error(`Pulling image ${reference}: ${dockerMessage(error)}`, { cause: error });
  }
  const shown = new Map<string, string>();
  let lastProgressAt = 0;
  const events = await new Promise<PullEvent[]>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: PullEvent[]) => (error ? reject(error) : resolve(output)),
      (event: PullEvent) => {
        if (event.error) return;
        const key = event.id ?? '';
        const status = event.status ?? '';
        // Layer state changes are worth a line each; byte counters at most every 2 seconds.
        const isCounter = status === 'Downloading' || status === 'Extracting';
        const now = Date.now();
        if (isCounter && now - lastProgressAt < 2000) return;
        if (!isCounter && shown.get(key) === status) return;
        shown.set(key, status);
        if (isCounter) lastProgressAt = now;
        log(
          `  ${key ? `${key}: ` : ''}${status}${isCounter && event.progress ? ` ${event.progress}` : ''}`,
        );
      },
    );
  }).catch((error: unknown) => {
    throw new Error(`Pulling image ${reference}: ${dockerMessage(error)}`, { cause: error });
  });
  const failure = events.find((event) => event.error || event.errorDetail);
  if (failure) {
    throw new Error(
      `Pulling image ${reference} failed: ${failure.errorDetail?.message ?? failure.error}`,
    );
  }
}
