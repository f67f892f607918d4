/**
 * List-then-watch that survives the API server: resumes from the last resourceVersion when a
 * watch ends (client-node's watches time out on their own), and lists again on 410 Gone.
 */
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { statusOf } from './client.js';

export type WatchEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

interface ObjectWithMeta {
  metadata?: { resourceVersion?: string };
}

export interface WatchOptions<T> {
  readonly config: KubeConfig;
  /** API path of the collection, e.g. /api/v1/namespaces/ns/pods. */
  readonly path: string;
  readonly query: Record<string, string>;
  readonly list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  readonly onEvent: (type: WatchEvent, object: T) => void;
  readonly signal: AbortSignal;
  readonly retryDelayMs?: number;
}

/** Runs until the signal aborts; rejects only on errors that a retry cannot mend. */
export async function listAndWatch<T extends ObjectWithMeta>(
  options: WatchOptions<T>,
): Promise<void> {
  const watch = new Watch(options.config);
  let resourceVersion: string | undefined;
  const delay = () => new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 500));

  while (!options.signal.aborted) {
    if (resourceVersion === undefined) {
      try {
        const listed = await options.list();
        for (const item of listed.items) options.onEvent('ADDED', item);
        resourceVersion = listed.metadata?.resourceVersion;
      } catch (error) {
        const status = statusOf(error);
        if (status !== undefined && status < 500 && status !== 429) throw error;
        await delay();
        continue;
      }
    }
    const ended = await new Promise<unknown>((resolve) => {
      let controller: AbortController | undefined;
      const onAbort = () => controller?.abort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      watch
        .watch(
          options.path,
          { ...options.query, allowWatchBookmarks: true, resourceVersion },
          (type, object: T & { code?: number; reason?: string }) => {
            if (type === 'ERROR') {
              // The server ends a watch it cannot continue (410 Gone: too old a version).
              if (object.code === 410) resourceVersion = undefined;
              return;
            }
            const version = object.metadata?.resourceVersion;
            if (version) resourceVersion = version;
            if (type === 'BOOKMARK') return;
            options.onEvent(type as WatchEvent, object);
          },
          (error: unknown) => {
            options.signal.removeEventListener('abort', onAbort);
            resolve(error);
          },
        )
        .then((c) => {
          controller = c;
          if (options.signal.aborted) c.abort();
        })
        .catch((error: unknown) => {
          options.signal.removeEventListener('abort', onAbort);
          resolve(error);
        });
    });
    if (options.signal.aborted) break;
    if (ended && statusOf(ended) === 410) resourceVersion = undefined;
    // A watch that ends, with or without an error, is picked up again from where it was.
    if (ended) await delay();
  }
}
