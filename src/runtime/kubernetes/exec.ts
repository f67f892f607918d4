/**
 * Commands run in a pod's container over the API server's exec endpoint (websocket), with a file
 * sent to their stdin under backpressure and their stdout written where the caller says. The
 * exit code comes from the Status the API server sends on the error channel.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import type { Cluster } from './client.js';

export interface ExecOptions {
  /** A file whose bytes are sent to the command's stdin, whole, without closing it. */
  readonly stdinFile?: string;
  /** Where stdout goes; by default it is collected and returned. */
  readonly stdout?: Writable;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An exec whose connection was lost: retried like any dropped connection (code ECONNRESET). */
export class ExecDropped extends Error {
  readonly code = 'ECONNRESET';
}

/** Data frames for the stdin channel (0) of the channel.k8s.io protocols. */
const STDIN_CHANNEL = 0;
/** Above this many bytes queued on the socket, sending waits. */
const HIGH_WATER = 4 * 1024 * 1024;

/** Runs `sh -c script` in a container and resolves with its exit code and output. */
export async function execScript(
  cluster: Cluster,
  pod: string,
  container: string,
  script: string,
  options: ExecOptions = {},
): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = options.stdout ?? collector(out);
  const stderr = collector(err);
  let status: V1Status | undefined;
  const ws = await new Exec(cluster.config)
    .exec(
      cluster.namespace,
      pod,
      container,
      ['sh', '-c', script],
      stdout,
      stderr,
      // A stream that is never written: it only asks for a stdin channel; data is sent below.
      options.stdinFile ? new PassThrough() : null,
      false,
      (s) => (status = s),
    )
    .catch((error: unknown) => {
      throw socketError(error);
    });
  // Listeners attached at once: the socket's events come from later I/O turns.
  const closed = new Promise<void>((resolve, reject) => {
    ws.on('close', () => resolve());
    ws.on('error', (error: unknown) => reject(socketError(error)));
  });
  if (options.stdinFile) await sendFile(ws, options.stdinFile);
  await closed;
  if (options.stdout === undefined) stdout.end();
  // The API server always ends an exec with a Status; a socket that closed without one was
  // cut (a proxy, a restart) and the command's end is unknown: a drop, to be tried again.
  if (!status) throw new ExecDropped('the exec connection closed before the command ended');
  const exitCode = exitCodeOf(status);
  // A Failure without an exit code is the connection's, not the command's (seen when the
  // connection to the API server is cut mid-exec): the command's end is unknown.
  if (exitCode === undefined) {
    throw new ExecDropped(
      `the exec ended without the command's exit code${status.message ? ` (${status.message})` : ''}`,
    );
  }
  return {
    exitCode,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/**
 * The socket's error (an ErrorEvent while connecting, not always an Error) as an Error: the
 * API server's refusal of the upgrade (a 4xx but 429) is final, anything else a drop.
 */
function socketError(error: unknown): Error {
  const event = error as { message?: unknown; error?: unknown };
  const message =
    typeof event.message === 'string' && event.message !== ''
      ? event.message
      : event.error instanceof Error
        ? event.error.message
        : String(error);
  const refused = /Unexpected server response: (\d+)/.exec(message);
  const code = refused ? Number(refused[1]) : undefined;
  if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
    return new Error(`the API server refused the exec: ${message}`);
  }
  return new ExecDropped(`the exec connection failed: ${message}`);
}

function collector(into: Buffer[]): Writable {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => into.push(chunk));
  return stream;
}

type Socket = Awaited<ReturnType<Exec['exec']>>;

async function sendFile(ws: Socket, file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const frame = Buffer.allocUnsafe((chunk as Buffer).length + 1);
    frame[0] = STDIN_CHANNEL;
    (chunk as Buffer).copy(frame, 1);
    if (ws.readyState !== ws.OPEN)
      throw new ExecDropped('the exec connection closed while sending');
    ws.send(frame);
    while (ws.bufferedAmount > HIGH_WATER) {
      if (ws.readyState !== ws.OPEN)
        throw new ExecDropped('the exec connection closed while sending');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Success is 0; a Failure names the exit code among its causes; anything else is unknown. */
function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return cause && Number.isInteger(code) ? code : undefined;
}
