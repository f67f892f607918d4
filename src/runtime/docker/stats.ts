/**
 * What a container used, from Docker's stats API: one sample a second while it runs. Counters
 * (CPU, network, block I/O) are cumulative, so the last sample holds the totals, short of the
 * last second at most; memory is the peak, from the engine's own high-water mark (cgroup v1)
 * or the highest sample (cgroup v2, which keeps no mark).
 */
import type Docker from 'dockerode';
import type { ResourceUsage } from '../types.js';

interface StatsSample {
  readonly read?: string;
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } };
  readonly memory_stats?: { readonly usage?: number; readonly max_usage?: number };
  readonly networks?: Readonly<
    Record<string, { readonly rx_bytes?: number; readonly tx_bytes?: number }>
  >;
  readonly blkio_stats?: {
    readonly io_service_bytes_recursive?: readonly {
      readonly op?: string;
      readonly value?: number;
    }[];
  } | null;
}

/** Folds samples into a usage; pure, so it is tested on recorded samples. */
export class StatsAccumulator {
  private cpuNanos: number | undefined;
  private memoryPeak: number | undefined;
  private network: { rx: number; tx: number } | undefined;
  private block: { read: number; write: number } | undefined;
  samples = 0;

  add(sample: StatsSample): void {
    // A stopped container's sample is all zeros: it must not undo the totals.
    if (!sample.read || sample.read.startsWith('0001-')) return;
    this.samples++;
    const cpu = sample.cpu_stats?.cpu_usage?.total_usage;
    if (typeof cpu === 'number' && cpu > (this.cpuNanos ?? -1)) this.cpuNanos = cpu;
    const memory = Math.max(sample.memory_stats?.usage ?? 0, sample.memory_stats?.max_usage ?? 0);
    if (memory > 0) this.memoryPeak = Math.max(this.memoryPeak ?? 0, memory);
    if (sample.networks) {
      let rx = 0;
      let tx = 0;
      for (const counters of Object.values(sample.networks)) {
        rx += counters.rx_bytes ?? 0;
        tx += counters.tx_bytes ?? 0;
      }
      if (!this.network || rx + tx >= this.network.rx + this.network.tx) this.network = { rx, tx };
    }
    const io = sample.blkio_stats?.io_service_bytes_recursive;
    if (io) {
      let read = 0;
      let write = 0;
      for (const entry of io) {
        // cgroup v1 says Read/Write (and Total); v2 says read/write.
        const op = entry.op?.toLowerCase();
        if (op === 'read') read += entry.value ?? 0;
        if (op === 'write') write += entry.value ?? 0;
      }
      if (!this.block || read + write >= this.block.read + this.block.write)
        this.block = { read, write };
    }
  }

  usage(): ResourceUsage | undefined {
    if (this.samples === 0) return undefined;
    return {
      source: 'docker-stats',
      ...(this.cpuNanos === undefined ? {} : { cpuSeconds: this.cpuNanos / 1e9 }),
      ...(this.memoryPeak === undefined ? {} : { memoryPeakBytes: this.memoryPeak }),
      ...(this.network ? { networkRxBytes: this.network.rx, networkTxBytes: this.network.tx } : {}),
      ...(this.block ? { blockReadBytes: this.block.read, blockWriteBytes: this.block.write } : {}),
    };
  }
}

/** Follows a container's stats until stopped; never throws (usage is a report, not the run). */
export class StatsFollower {
  private readonly accumulator = new StatsAccumulator();
  private stream: NodeJS.ReadableStream | undefined;
  private stopped = false;
  private readonly ended: Promise<void>;

  constructor(container: Docker.Container) {
    this.ended = this.follow(container).catch(() => undefined);
  }

  private async follow(container: Docker.Container): Promise<void> {
    const stream = await container.stats({ stream: true });
    this.stream = stream;
    if (this.stopped) {
      destroy(stream);
      return;
    }
    let pending = '';
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer | string) => {
        pending += chunk.toString();
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line === '') continue;
          try {
            this.accumulator.add(JSON.parse(line) as StatsSample);
          } catch {
            // A torn line when the stream is cut: the next sample has the same counters.
          }
        }
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
  }

  /** Stops following (at most a moment's wait) and gives what was seen. */
  async stop(): Promise<ResourceUsage | undefined> {
    this.stopped = true;
    if (this.stream) destroy(this.stream);
    // The wait's timer is cleared: a timer left behind would keep the process alive a second.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    return this.accumulator.usage();
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
}
