/**
 * A pod's log as a reconciliation loop (ARCHITECTURE.md, rule 2): followed with timestamps from the
 * container's start; after a dropped stream resumed with sinceTime without a lost or repeated
 * line; read once more after the container ended.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../../logs/line-splitter.js';
import { LogCursor, reconcileLog, timestampNanos } from '../log-cursor.js';
import type { Cluster } from './client.js';

export interface LogRequest {
  readonly follow: boolean;
  /** RFC 3339; the API server reads it to the second. */
  readonly sinceTime?: string;
}

/** Opens the log of one container, with timestamps. */
export async function openPodLog(
  cluster: Cluster,
  pod: string,
  container: string,
  request: LogRequest,
  signal?: AbortSignal,
): Promise<Readable> {
  const url = new URL(`${cluster.server}/api/v1/namespaces/${cluster.namespace}/pods/${pod}/log`);
  url.searchParams.set('container', container);
  url.searchParams.set('timestamps', 'true');
  if (request.follow) url.searchParams.set('follow', 'true');
  if (request.sinceTime) url.searchParams.set('sinceTime', request.sinceTime);
  const options: https.RequestOptions = { method: 'GET', headers: {} };
  await cluster.config.applyToHTTPSOptions(options);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise<Readable>((resolve, reject) => {
    const req = transport.request(url, { ...options, ...(signal ? { signal } : {}) }, (res) => {
      if (res.statusCode === 200) return resolve(res);
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        let message = body;
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? body;
        } catch {
          // Not a Status object: keep the text.
        }
        reject(Object.assign(new Error(message.trim()), { code: res.statusCode }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface PodLogSource {
  open(request: LogRequest, signal?: AbortSignal): Promise<Readable>;
  /** Whether the container may still write (not terminated, pod not gone). */
  running(): Promise<boolean>;
}

export interface FollowPodOptions {
  readonly signal?: AbortSignal;
  readonly retryDelayMs?: number;
  /**
   * Text without a timestamp: with timestamps asked for, that is never the container's but the
   * kubelet's (e.g. "unable to retrieve container logs" for a container already removed).
   */
  readonly onNotice?: (text: string) => void;
}

/** Seconds-precision RFC 3339 at or before a timestamp in nanoseconds. */
function sinceTimeFor(nanos: bigint): string {
  return new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Delivers every line of the container's log once, in order, each with its trailing newline,
 * until the container has ended and its tail was read again.
 */
export async function followPodLog(
  source: PodLogSource,
  onLine: (line: Buffer) => void,
  options: FollowPodOptions = {},
): Promise<void> {
  const cursor = new LogCursor();

  const readOnce = async (follow: boolean): Promise<void> => {
    const isNew = cursor.resume();
    const from = cursor.position;
    const stream = await source.open(
      { follow, ...(from === undefined ? {} : { sinceTime: sinceTimeFor(from) }) },
      follow ? options.signal : undefined,
    );
    const splitter = new LineSplitter();
    const take = (line: string) => {
      const space = line.indexOf(' ');
      const stamp = space > 0 ? timestampNanos(line.slice(0, space)) : undefined;
      if (stamp === undefined) {
        if (line.trim() !== '') options.onNotice?.(line.trim());
      } else if (isNew(stamp)) onLine(Buffer.from(`${line.slice(space + 1)}\n`));
    };
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => splitter.push(chunk).forEach(take));
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.on('error', reject);
    });
    // A stream cut mid-line leaves a piece without its newline: it is read again on resume, so
    // only a final, unterminated last line of a finished log is kept.
    if (!follow) splitter.flush().forEach(take);
  };

  await reconcileLog({
    readOnce,
    running: () => source.running(),
    ...(options.signal ? { signal: options.signal } : {}),
    retryDelayMs: options.retryDelayMs ?? 300,
  });
}
