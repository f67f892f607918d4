/**
 * The workload's output into the step log, line by line, from its first byte until it ends:
 * after the exit, output still arriving is read however long it takes, and given up on only
 * once it has stalled (a child holding the pipe), or soon after a cancellation.
 */
import { LineSplitter } from '../logs/line-splitter.js';
import type { LogSink } from '../logs/log-sink.js';
import type { StreamName } from '../logs/log-sink.js';
import type { OutputChunk, RunningWorkload } from '../runtime/types.js';
import { withDeadline } from './deadline.js';

/** How long output may stall after the exit before it is given up on. */
export const OUTPUT_STALL_MS = 15_000;
/** How long the output is read after a cancellation. */
export const OUTPUT_CANCELLED_MS = 1_500;

export class OutputRelay {
  private readonly splitters: Record<StreamName, LineSplitter> = {
    stdout: new LineSplitter(),
    stderr: new LineSplitter(),
  };
  private readonly stop = new AbortController();
  private readonly done: Promise<void>;
  /** The real clock: stalls are measured in real time, whatever clock the outcome uses. */
  private lastOutputAt = Date.now();
  /** When the first byte came, on the outcome's clock. */
  firstOutputAt: number | undefined;

  constructor(
    workload: Pick<RunningWorkload, 'output'>,
    private readonly sink: LogSink,
    now: () => number,
    private readonly stallMs = OUTPUT_STALL_MS,
  ) {
    const onChunk = ({ stream, data }: OutputChunk) => {
      this.firstOutputAt ??= now();
      this.lastOutputAt = Date.now();
      for (const line of this.splitters[stream].push(data)) sink.relay(stream, line);
    };
    this.done = workload.output(onChunk, this.stop.signal).catch((error: unknown) => {
      sink.note(`Reading the output failed: ${(error as Error).message}`);
    });
  }

  /** Reads to the output's end (or gives up on it, saying so), then ends the relay. */
  async finish(cancelled: boolean): Promise<void> {
    const drained = cancelled
      ? await withDeadline(
          this.done.then(() => true),
          OUTPUT_CANCELLED_MS,
        ).catch(() => false)
      : await untilStalled(this.done, () => this.lastOutputAt, this.stallMs);
    if (!drained) {
      this.stop.abort();
      this.sink.note('The output did not end after the workload exited; stopped reading it.');
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const line of this.splitters[stream].flush()) this.sink.relay(stream, line);
    }
    this.sink.endRelay();
  }
}

/** True when done settles; false once no output has come for stallMs (counted from now at least). */
export async function untilStalled(
  done: Promise<void>,
  lastOutputAt: () => number,
  stallMs: number,
): Promise<boolean> {
  const since = Date.now();
  const quietFor = () => Date.now() - Math.max(since, lastOutputAt());
  while (quietFor() < stallMs) {
    const wait = Math.min(1000, Math.max(50, stallMs - quietFor()));
    if (
      await withDeadline(done, wait).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}
