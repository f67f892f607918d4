import { describe, expect, it } from 'vitest';
import { StatsAccumulator } from '../../../src/runtime/docker/stats.js';

const sample = (read: string, cpu: number, usage: number, extra: object = {}) => ({
  read,
  cpu_stats: { cpu_usage: { total_usage: cpu } },
  memory_stats: { usage },
  ...extra,
});

describe("Docker's stats samples, folded", () => {
  it('keeps the last counters and the highest memory, and ignores a stopped container', () => {
    const stats = new StatsAccumulator();
    stats.add(
      sample('2026-12-02T00:00:01Z', 1e9, 50e6, {
        networks: { eth0: { rx_bytes: 100, tx_bytes: 10 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
        blkio_stats: {
          io_service_bytes_recursive: [
            { op: 'Read', value: 4096 },
            { op: 'Write', value: 8192 },
            { op: 'Total', value: 12288 },
          ],
        },
      }),
    );
    stats.add(
      sample('2026-12-02T00:00:02Z', 2.5e9, 30e6, {
        networks: { eth0: { rx_bytes: 300, tx_bytes: 30 } },
        // cgroup v2 names the operations in lower case.
        blkio_stats: {
          io_service_bytes_recursive: [
            { op: 'read', value: 8192 },
            { op: 'write', value: 16384 },
          ],
        },
      }),
    );
    // What Docker sends once the container has stopped: zeros, dated year 1.
    stats.add(sample('0001-01-01T00:00:00Z', 0, 0));
    expect(stats.usage()).toEqual({
      source: 'docker-stats',
      cpuSeconds: 2.5,
      memoryPeakBytes: 50e6,
      networkRxBytes: 300,
      networkTxBytes: 30,
      blockReadBytes: 8192,
      blockWriteBytes: 16384,
    });
  });

  it("takes cgroup v1's own high-water mark", () => {
    const stats = new StatsAccumulator();
    stats.add({
      ...sample('2026-12-02T00:00:01Z', 1, 1e6),
      memory_stats: { usage: 1e6, max_usage: 9e6 },
    });
    expect(stats.usage()?.memoryPeakBytes).toBe(9e6);
  });

  it('says nothing when no sample came', () => {
    expect(new StatsAccumulator().usage()).toBeUndefined();
  });
});
