/**
 * Docker logs as a reconciliation loop (ARCHITECTURE.md, rule 2): follow with timestamps from the
 * first byte, resume after a dropped connection from the last timestamp seen without repeating a
 * message, and read the tail once more after the container has exited.
 */
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LogCursor, reconcileLog, timestampNanos } from '../log-cursor.js';
import type { StreamName } from '../../logs/log-sink.js';
import type { OutputChunk } from '../types.js';
import { engineCall } from './engine.js';

/** The unfollowed read of the tail is short; past this it counts as a dropped connection. */
const TAIL_DEADLINE_MS = 120_000;
const TAIL_PIECE_BYTES = 16 * 1024;

/** Docker's `since` query form: seconds.nanoseconds. */
export function sinceParameter(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const rest = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${rest}`;
}

export interface LogSource {
  /** Opens a followed (or, for the tail, unfollowed) multiplexed log stream. */
  open(follow: boolean, since: bigint | undefined, signal?: AbortSignal): Promise<Readable>;
  /** Whether the container may still write. */
  running(): Promise<boolean>;
  /** Splits a multiplexed stream into one callback per frame (one log message each). */
  demux(stream: Readable, onFrame: (stream: StreamName, payload: Buffer) => void): void;
}

export function dockerLogSource(container: Docker.Container, modem: Docker['modem']): LogSource {
  return {
    async open(follow, since, signal) {
      const options = {
        stdout: true,
        stderr: true,
        timestamps: true,
        since: since === undefined ? 0 : sinceParameter(since),
        ...(signal ? { abortSignal: signal } : {}),
      };
      if (follow) return (await container.logs({ ...options, follow: true })) as Readable;
      // A drop mid-body would leave this pending (engine.ts): bounded, and then read again.
      const buffer = await engineCall('logs', () => container.logs({ ...options, follow: false }), {
        deadlineMs: TAIL_DEADLINE_MS,
        retries: 0,
      });
      // In pieces: docker-modem's demuxer recurses once per frame of a chunk, and a tail of a
      // hundred thousand short lines in one chunk overflows the stack.
      const pieces: Buffer[] = [];
      for (let at = 0; at < buffer.length; at += TAIL_PIECE_BYTES) {
        pieces.push(buffer.subarray(at, at + TAIL_PIECE_BYTES));
      }
      return Readable.from(pieces);
    },
    async running() {
      const info = await engineCall('inspect', () => container.inspect());
      return info.State.Running || info.State.Restarting;
    },
    demux(stream, onFrame) {
      // Each write is one frame, and the daemon writes one log message per frame, which keeps
      // the timestamp of a message next to its text even for 16 KiB pieces of a long line.
      modem.demuxStream(
        stream,
        {
          write: (payload: Buffer) => onFrame('stdout', payload),
        } as unknown as NodeJS.WritableStream,
        {
          write: (payload: Buffer) => onFrame('stderr', payload),
        } as unknown as NodeJS.WritableStream,
      );
    },
  };
}

export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** Pause before reconnecting after a dropped stream. */
  readonly retryDelayMs?: number;
}

/** Delivers every message once, in order, until the container has exited and the tail is read. */
export async function followLogs(
  source: LogSource,
  onChunk: (chunk: OutputChunk) => void,
  options: FollowOptions = {},
): Promise<void> {
  const cursor = new LogCursor();

  const readOnce = async (follow: boolean): Promise<void> => {
    const isNew = cursor.resume();
    const from = cursor.position;
    // The tail is read even after cancellation: it is short, and nothing written may be lost.
    const stream = await source.open(follow, from, follow ? options.signal : undefined);
    await new Promise<void>((resolve, reject) => {
      source.demux(stream, (name, payload) => {
        const space = payload.indexOf(0x20);
        const stamp =
          space > 0 ? timestampNanos(payload.subarray(0, space).toString('latin1')) : undefined;
        if (stamp === undefined) onChunk({ stream: name, data: payload });
        else if (isNew(stamp)) onChunk({ stream: name, data: payload.subarray(space + 1) });
      });
      stream.once('end', resolve);
      stream.once('close', resolve);
      // on, not once: a destroyed HTTP stream may report its error more than once.
      stream.on('error', reject);
    });
  };

  await reconcileLog({
    readOnce,
    running: () => source.running(),
    ...(options.signal ? { signal: options.signal } : {}),
    retryDelayMs: options.retryDelayMs ?? 200,
  });
}
