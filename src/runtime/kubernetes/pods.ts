/** Pure readings of the Kubernetes objects a run follows: its pods' containers, events, labels. */
import type { CoreV1Event, V1Pod, V1ContainerStatus } from '@kubernetes/client-node';
import { WORKLOAD_CONTAINER } from './pod-spec.js';
import { KEEPER_CONTAINER } from './keeper.js';

/** The label the Job controller puts on its pods: every index's, for an Indexed Job. */
export function jobPodSelector(job: string): string {
  return `batch.kubernetes.io/job-name=${job}`;
}

/** The label (and annotation) the Job controller gives each pod of an Indexed Job. */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

/** The index of an Indexed Job's pod, from its label or else its annotation. */
export function podIndex(pod: V1Pod): number | undefined {
  const text =
    pod.metadata?.labels?.[COMPLETION_INDEX] ?? pod.metadata?.annotations?.[COMPLETION_INDEX];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** An Indexed Job's `completedIndexes` or `failedIndexes` ("0,2-4") as a set. */
export function indexSet(text: string | undefined): Set<number> {
  const set = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!range) continue;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let i = from; i <= to; i++) set.add(i);
  }
  return set;
}

export function workloadStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === WORKLOAD_CONTAINER);
}

export function eventTime(event: CoreV1Event): number {
  const time = event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  return time ? new Date(time).getTime() : 0;
}

/** Go's time.Duration text (`1.5s`, `532ms`, `1m2.5s`) → seconds. */
export function goDuration(text: string): number | undefined {
  const units: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
  };
  let total = 0;
  let matched = '';
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * units[part[2]!]!;
    matched += part[0];
  }
  return matched === text && matched !== '' ? total : undefined;
}

export function keeperStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.initContainerStatuses?.find((s) => s.name === KEEPER_CONTAINER);
}
