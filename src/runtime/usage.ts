/**
 * What a workload used, from its container's own cgroup counters, read by a small shell around
 * the workload after it exits and before the container ends. The counters are exact totals (CPU
 * time, the memory high-water mark, block I/O), where Docker's stats and a metrics server give
 * samples seconds apart that miss a short run entirely. On Kubernetes they travel back in the
 * container's termination message, which the kubelet keeps in the pod's status; on Docker in a
 * file read from the stopped container.
 *
 * The shell passes SIGTERM (and SIGINT) on to the workload and exits with its status, so the
 * Job's podFailurePolicy, OOMKilled and exit codes read as before. Both cgroup v2 and the v1
 * hierarchies are read; network bytes are the pod's interfaces but loopback.
 */
import type { ResourceUsage } from './types.js';

/** The first line of the termination message that carries counters. */
export const USAGE_HEADER = 'cook-action usage 1';

/** `sh -c <wrapper> cook-workload <argv...>` runs argv and leaves its counters in `target`. */
export function usageWrapper(target: string): string {
  return WRAPPER.replace('HEADER', USAGE_HEADER).replace('TARGET', target);
}

const WRAPPER = [
  '"$@" &',
  'c=$!',
  "trap 'kill -TERM $c 2>/dev/null' TERM",
  "trap 'kill -INT $c 2>/dev/null' INT",
  'wait $c',
  's=$?',
  'while kill -0 $c 2>/dev/null; do wait $c; s=$?; done',
  'usage() {',
  '  g=/sys/fs/cgroup',
  "  echo 'HEADER'",
  '  if [ -f $g/cpu.stat ]; then',
  '    while read k v; do [ "$k" = usage_usec ] && echo "cpu_usec $v"; done < $g/cpu.stat',
  '    [ -f $g/memory.peak ] && read v < $g/memory.peak && echo "memory_peak $v"',
  '    if [ -f $g/io.stat ]; then',
  '      r=0; w=0',
  '      while read d rest; do',
  '        for kv in $rest; do',
  '          case $kv in rbytes=*) r=$((r + ${kv#rbytes=})) ;; wbytes=*) w=$((w + ${kv#wbytes=})) ;; esac',
  '        done',
  '      done < $g/io.stat',
  '      echo "io $r $w"',
  '    fi',
  '  else',
  '    for f in $g/cpuacct/cpuacct.usage $g/cpu,cpuacct/cpuacct.usage $g/cpuacct,cpu/cpuacct.usage; do',
  '      [ -f $f ] && read v < $f && echo "cpu_nsec $v" && break',
  '    done',
  '    f=$g/memory/memory.max_usage_in_bytes',
  '    [ -f $f ] && read v < $f && echo "memory_peak $v"',
  '    f=$g/blkio/blkio.throttle.io_service_bytes',
  '    if [ -f $f ]; then',
  '      r=0; w=0',
  '      while read d op v; do case $op in Read) r=$((r + v)) ;; Write) w=$((w + v)) ;; esac; done < $f',
  '      echo "io $r $w"',
  '    fi',
  '  fi',
  '  rx=0; tx=0',
  '  while read l; do',
  '    case $l in',
  '      *:*)',
  '        n=${l%%:*}; n=${n##* }',
  '        set -- ${l#*:}',
  '        [ "$n" = lo ] || { rx=$((rx + $1)); tx=$((tx + $9)); } ;;',
  '    esac',
  '  done < /proc/net/dev',
  '  echo "net $rx $tx"',
  '}',
  'usage > TARGET 2>/dev/null',
  'exit $s',
]
  .join('\n')
  .replace('HEADER', USAGE_HEADER);

/** A termination message → usage; undefined when it is not ours (or says nothing). */
export function parseUsage(message: string | undefined): ResourceUsage | undefined {
  if (!message) return undefined;
  const lines = message.split('\n');
  if (lines[0]?.trim() !== USAGE_HEADER) return undefined;
  const usage: {
    -readonly [K in keyof ResourceUsage]: ResourceUsage[K];
  } = { source: 'cgroup' };
  for (const line of lines.slice(1)) {
    const [key, ...values] = line.trim().split(/\s+/);
    const numbers = values.map(Number);
    if (numbers.some((n) => !Number.isFinite(n))) continue;
    if (key === 'cpu_usec') usage.cpuSeconds = numbers[0]! / 1e6;
    if (key === 'cpu_nsec') usage.cpuSeconds = numbers[0]! / 1e9;
    if (key === 'memory_peak') usage.memoryPeakBytes = numbers[0]!;
    if (key === 'io' && numbers.length === 2) {
      usage.blockReadBytes = numbers[0]!;
      usage.blockWriteBytes = numbers[1]!;
    }
    if (key === 'net' && numbers.length === 2) {
      usage.networkRxBytes = numbers[0]!;
      usage.networkTxBytes = numbers[1]!;
    }
  }
  return usage;
}
