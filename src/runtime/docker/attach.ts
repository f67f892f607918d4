/**
 * The workload's output live, as `docker run` reads it: attached before the container starts, so
 * the first byte needs no further request, and streamed by the daemon as the container writes it
 * (its log, read back through the logs API, comes at a fraction of that rate). The log stays the
 * record: when the attachment drops while the container still runs, the log is followed from its
 * start, skipping every byte the attachment delivered (ARCHITECTURE.md, rule 2).
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { StreamName } from '../../logs/log-sink.js';
import type { OutputChunk } from '../types.js';
import { followLogs, type LogSource } from './log-follower.js';

/** How long the container may take to stop running once its attachment ended of itself. */
const EXIT_AFTER_END_MS = 2_000;
const EXIT_POLL_MS = 50;

/** Attaches to the container's stdout and stderr; undefined when the engine refuses. */
export async function attachOutput(container: Docker.Container): Promise<Readable | undefined> {
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    return stream as unknown as Readable;
  } catch {
    return undefined;
  }
}

/**
 * Splits Docker's multiplexed stream (an 8-byte header: the stream, then the length) into its
 * frames. A frame within one chunk is passed on as a view of it; only a frame split across
 * chunks is copied.
 */
export class FrameReader {
  /** The header being read, `headerBytes` of it so far (one per frame: no allocation). */
  private readonly header = Buffer.alloc(8);
  private headerBytes = 0;
  private stream: StreamName | undefined;
  private left = 0;
  private pieces: Buffer[] = [];

  constructor(private readonly onFrame: (stream: StreamName, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.stream === undefined) {
        const copied = chunk.copy(this.header, this.headerBytes, at, at + 8 - this.headerBytes);
        at += copied;
        this.headerBytes += copied;
        if (this.headerBytes < 8) return;
        this.headerBytes = 0;
        // 0 is stdin, never sent back; anything else but 2 is taken as stdout.
        this.stream = this.header[0] === 2 ? 'stderr' : 'stdout';
        this.left = this.header.readUInt32BE(4);
        if (this.left === 0) this.stream = undefined;
        continue;
      }
      const take = Math.min(this.left, chunk.length - at);
      this.pieces.push(chunk.subarray(at, at + take));
      at += take;
      this.left -= take;
      if (this.left === 0) {
        const payload = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces);
        const stream = this.stream;
        this.pieces = [];
        this.stream = undefined;
        this.onFrame(stream, payload);
      }
    }
  }
}

/** Resolves with whether the stream ended of itself (true) or was broken or aborted (false). */
function readAttached(
  attached: Readable,
  reader: FrameReader,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (clean: boolean) => {
      signal?.removeEventListener('abort', aborted);
      resolve(clean);
    };
    const aborted = () => {
      attached.destroy();
      done(false);
    };
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    attached.on('data', (chunk: Buffer) => reader.push(chunk));
    attached.once('end', () => done(true));
    attached.once('close', () => done(false));
    attached.on('error', () => done(false));
  });
}

async function stopsRunning(source: LogSource, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  for (;;) {
    if (!(await source.running().catch(() => true))) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
}

/**
 * Relays the attachment to its end. It ends of itself when the container's output closes, and
 * the container then stops running at once: the output is whole. Otherwise (broken, or the
 * container runs on) the log is followed, without the bytes already relayed. What this cannot
 * tell apart: a connection cut in the very moment the container exits, which ends like the
 * daemon's own close; its last bytes would then be missing.
 */
export async function relayAttached(
  attached: Readable,
  source: LogSource,
  onChunk: (chunk: OutputChunk) => void,
  signal?: AbortSignal,
): Promise<void> {
  const relayed: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  const reader = new FrameReader((stream, data) => {
    relayed[stream] += data.length;
    onChunk({ stream, data });
  });
  const ended = await readAttached(attached, reader, signal);
  if (signal?.aborted) return;
  if (ended && (await stopsRunning(source, EXIT_AFTER_END_MS))) return;
  await followLogs(source, skipping(relayed, onChunk), signal ? { signal } : {});
}

/** onChunk without the first bytes of each stream (those the attachment delivered). */
export function skipping(
  counts: Record<StreamName, number>,
  onChunk: (chunk: OutputChunk) => void,
): (chunk: OutputChunk) => void {
  const left = { ...counts };
  return ({ stream, data }) => {
    const skip = Math.min(left[stream], data.length);
    left[stream] -= skip;
    if (skip < data.length) onChunk({ stream, data: data.subarray(skip) });
  };
}
