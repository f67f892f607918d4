/**
 * Connecting to the cluster: the kubeconfig (its content as read before the run), the context, the namespace, API clients, the API server's own words out of an
 * error, and retries of what the infrastructure, not the request, got wrong.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import {
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
} from '@kubernetes/client-node';
import pRetry, { AbortError } from 'p-retry';
import type { KubernetesTarget } from '../../config/kubernetes.js';

export interface Cluster {
  readonly config: KubeConfig;
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  readonly authorization: AuthorizationV1Api;
  readonly version: VersionApi;
  /** The API server's address, for messages. */
  readonly server: string;
}

export function connect(target: KubernetesTarget): Cluster {
  const config = new KubeConfig();
  try {
    if (target.kubeconfig.kind === 'content') {
      // Only the content read before the run is used; relative paths in it stay relative to
      // the file it was read from.
      config.loadFromString(target.kubeconfig.content);
      if (target.kubeconfig.path) config.makePathsAbsolute(path.dirname(target.kubeconfig.path));
    } else {
      config.loadFromDefault();
    }
  } catch (error) {
    throw new Error(`Reading the kubeconfig: ${(error as Error).message}`, { cause: error });
  }
  const cluster = checkTarget(config, target);
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  return {
    config,
    namespace: target.namespace ?? contextNamespace ?? 'default',
    core: config.makeApiClient(CoreV1Api),
    batch: config.makeApiClient(BatchV1Api),
    authorization: config.makeApiClient(AuthorizationV1Api),
    version: config.makeApiClient(VersionApi),
    server: cluster.server,
  };
}

/** Picks the context, and checks that it names a cluster and a usable credential plugin. */
function checkTarget(config: KubeConfig, target: KubernetesTarget) {
  if (target.context) {
    if (!config.getContextObject(target.context)) {
      const known = config.getContexts().map((c) => c.name);
      throw new Error(
        `Input 'context' has invalid value ${JSON.stringify(target.context)}: expected one of the kubeconfig's contexts (${known.join(', ') || 'none'})`,
      );
    }
    config.setCurrentContext(target.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw new Error(
      'The kubeconfig names no cluster for its current context: pass kubeconfig, kubeconfig-path or cluster.',
    );
  }
  checkCredentialPlugin(config);
  return cluster;
}

/**
 * A user whose credentials come from an exec plugin (aws, gke-gcloud-auth-plugin, kubelogin...)
 * needs that program on this machine: say so plainly before any request fails with ENOENT.
 */
function checkCredentialPlugin(config: KubeConfig): void {
  const user = config.getCurrentUser();
  const command = user?.exec?.command as string | undefined;
  if (!user || !command) return;
  // The plugin runs with this process's own PATH, so that is where it must be found.
  // eslint-disable-next-line no-restricted-properties
  const searchPath = process.env.PATH ?? '';
  const found = command.includes('/')
    ? isExecutable(command)
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .some((dir) => isExecutable(path.join(dir, command)));
  if (!found) {
    throw new Error(
      `The kubeconfig's user '${user.name}' gets its credentials from the exec plugin '${command}', which is not installed here (${command.includes('/') ? 'no such executable file' : 'not found on PATH'}). Install it in an earlier step, or pass a kubeconfig whose user has a token or client certificate.`,
    );
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** HTTP status of a client-node error, if it came from the API server. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's message, pulled out of a client error (its body is a Status object). */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: string } | undefined)?.message;
  if (message) return message;
  return (error as Error).message ?? String(error);
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** 429, 5xx and broken connections are the infrastructure's: worth another try. */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return status === 429 || status >= 500;
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } }).code ??
    (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/**
 * Runs an API call, retrying transient failures with exponential backoff (p-retry: a small,
 * well-kept library for exactly this); anything else fails at once with the server's message.
 */
export async function withRetries<T>(
  what: string,
  call: () => Promise<T>,
  retries = 5,
): Promise<T> {
  try {
    return await pRetry(
      async () => {
        try {
          return await call();
        } catch (error) {
          if (!isTransient(error)) throw new AbortError(error as Error);
          throw error;
        }
      },
      { retries, minTimeout: 200, maxTimeout: 3000, factor: 2 },
    );
  } catch (error) {
    throw new Error(`${what}: ${apiMessage(error)}`, { cause: error });
  }
}
