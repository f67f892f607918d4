/**
 * Where a followed log got to, so that a read resumed after a dropped connection delivers each
 * message once (ARCHITECTURE.md, rule 2). Docker's `since` and Kubernetes' `sinceTime` are
 * inclusive (and sinceTime is whole seconds), so a resumed read starts at or before the last
 * message seen: the cursor drops what comes before it and the messages already delivered at its
 * exact timestamp.
 */
export class LogCursor {
  private last: bigint | undefined;
  /** Messages already delivered that carry exactly the timestamp `last`. */
  private deliveredAtLast = 0;

  /** Nanoseconds since the epoch of the last message delivered. */
  get position(): bigint | undefined {
    return this.last;
  }

  /** Starts a read from the current position; the returned test says whether a message is new. */
  resume(): (stamp: bigint) => boolean {
    const from = this.last;
    let skip = this.deliveredAtLast;
    return (stamp) => {
      if (from !== undefined && stamp < from) return false;
      if (from !== undefined && stamp === from && skip > 0) {
        skip--;
        return false;
      }
      if (stamp === this.last) this.deliveredAtLast++;
      else {
        this.last = stamp;
        this.deliveredAtLast = 1;
      }
      return true;
    };
  }
}

/** Nanoseconds since the epoch of an RFC 3339 timestamp with up to 9 fractional digits. */
export function timestampNanos(text: string): bigint | undefined {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = (match[2] ?? '').padEnd(9, '0');
  return BigInt(seconds) * 1_000_000n + BigInt(fraction);
}

const TAIL_ATTEMPTS = 5;

export interface ReconcileOptions {
  /** One read from the cursor's position: followed (until the server closes it) or not. */
  readonly readOnce: (follow: boolean) => Promise<void>;
  /** Whether the workload may still write. */
  readonly running: () => Promise<boolean>;
  readonly signal?: AbortSignal;
  /** Pause before reading again after a dropped connection. */
  readonly retryDelayMs: number;
}

/**
 * Follows until the workload has ended, then reads the tail once more. The end of a followed
 * stream is not the end of the workload (Docker and the API server both close followed logs
 * early): it is followed again while it runs, and a dropped read is resumed like any other.
 */
export async function reconcileLog(options: ReconcileOptions): Promise<void> {
  const pause = () => new Promise((resolve) => setTimeout(resolve, options.retryDelayMs));
  for (;;) {
    if (options.signal?.aborted) break;
    try {
      await options.readOnce(true);
    } catch (error) {
      if (options.signal?.aborted) break;
      if (!isConnectionDrop(error)) throw error;
      await pause();
    }
    if (!(await options.running())) break;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await options.readOnce(false);
      return;
    } catch (error) {
      if (!isConnectionDrop(error) || attempt >= TAIL_ATTEMPTS) throw error;
      await pause();
    }
  }
}

/** A log connection that broke, rather than a request the server refused. */
export function isConnectionDrop(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ECONNREFUSED' ||
    code === 'ETIMEDOUT' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (typeof code === 'number' && (code === 429 || code >= 500)) ||
    (error as Error).name === 'AbortError'
  );
}
