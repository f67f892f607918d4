/**
 * What following a Job knows and decides, as a pure function: `track(config, state, event)`
 * folds one thing the watches saw (a pod or the Job changed, a second passed, the engine asked
 * to stop) into the next state, and says what to do about it as effects: a line for the log,
 * the workspace to send, the results to bring back, a keeper to let go, the verdict.
 * pod-workload.ts carries the effects out; nothing here reads a clock, a cluster or a file.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { ExitStatus } from '../types.js';
import { DISRUPTION_RETRIES } from './manifest.js';
import { indexSet, keeperStatus, workloadStatus } from './pods.js';

/** Waiting reasons that no amount of waiting mends: the run fails at once, with the reason. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** When a pod was first seen created, scheduled, running and ended (the runner's clock). */
export interface PodMarks {
  readonly seen: number;
  readonly scheduled?: number;
  readonly running?: number;
  readonly ended?: number;
}

export interface TrackerConfig {
  /** Follow only this index of an Indexed Job. */
  readonly index?: number;
  /** The run has folders to bring back: the keeper holds each pod until they are collected. */
  readonly collects: boolean;
  /** How long a pod may stay unschedulable before the run fails. */
  readonly schedulingTimeoutMs: number;
}

export interface TrackerState {
  readonly pods: ReadonlyMap<string, V1Pod>;
  /** Pod names in the order they were first seen: the last is the newest attempt. */
  readonly order: readonly string[];
  readonly marks: ReadonlyMap<string, PodMarks>;
  /** The keys of the lines said once. */
  readonly said: ReadonlySet<string>;
  readonly unschedulableSince?: number;
  /** Pods whose workspace was sent, or is being sent. */
  readonly sent: ReadonlySet<string>;
  /** Pods whose keeper was let go without a collection (deleted under the workload). */
  readonly released: ReadonlySet<string>;
  /** The pod whose results are being, or were, brought back. */
  readonly collecting?: string;
  /** The engine asked the Job to stop. */
  readonly stopping: boolean;
  /** The verdict is given: nothing after it changes it. */
  readonly settled: boolean;
}

export type TrackerEvent =
  | { readonly kind: 'pod'; readonly change: string; readonly pod: V1Pod; readonly now: number }
  | { readonly kind: 'job'; readonly change: string; readonly job: V1Job }
  /** A second passed (the scheduling timeout is counted on these). */
  | { readonly kind: 'tick'; readonly now: number }
  | { readonly kind: 'stopping' }
  | { readonly kind: 'send-failed'; readonly pod: string; readonly message: string }
  | { readonly kind: 'watch-failed'; readonly what: string; readonly message: string }
  /** A line to say once under its key (e.g. a notice about a pod's log). */
  | { readonly kind: 'note'; readonly key: string; readonly message: string };

export type Effect =
  | { readonly kind: 'log'; readonly message: string }
  | { readonly kind: 'send'; readonly pod: string }
  | { readonly kind: 'collect'; readonly pod: string }
  /** Let the pod's keeper go: its results cannot be fetched. */
  | { readonly kind: 'release'; readonly pod: string }
  | { readonly kind: 'show-events'; readonly pod: string }
  /** The verdict, given once the results being brought back (if any) are in. */
  | { readonly kind: 'finish'; readonly status: ExitStatus }
  /** The verdict, given once the pod's events are shown. */
  | { readonly kind: 'fail'; readonly pod?: string; readonly status: ExitStatus };

export interface TrackerStep {
  readonly state: TrackerState;
  readonly effects: readonly Effect[];
}

export const INITIAL_STATE: TrackerState = {
  pods: new Map(),
  order: [],
  marks: new Map(),
  said: new Set(),
  sent: new Set(),
  released: new Set(),
  stopping: false,
  settled: false,
};

/** The state being changed by one event: copies, so the state given stays as it was. */
interface Draft {
  pods: Map<string, V1Pod>;
  order: string[];
  marks: Map<string, PodMarks>;
  said: Set<string>;
  unschedulableSince?: number;
  sent: Set<string>;
  released: Set<string>;
  collecting?: string;
  stopping: boolean;
  settled: boolean;
  readonly effects: Effect[];
}

const NO_EXIT: ExitStatus = { exitCode: undefined, oomKilled: false };

export function track(
  config: TrackerConfig,
  state: TrackerState,
  event: TrackerEvent,
): TrackerStep {
  const { unschedulableSince, collecting, ...rest } = state;
  const draft: Draft = {
    ...rest,
    ...(unschedulableSince === undefined ? {} : { unschedulableSince }),
    ...(collecting === undefined ? {} : { collecting }),
    pods: new Map(state.pods),
    order: [...state.order],
    marks: new Map(state.marks),
    said: new Set(state.said),
    sent: new Set(state.sent),
    released: new Set(state.released),
    effects: [],
  };
  switch (event.kind) {
    case 'pod':
      onPod(config, draft, event.change, event.pod, event.now);
      break;
    case 'job':
      onJob(config, draft, event.change, event.job);
      break;
    case 'tick':
      onTick(config, draft, event.now);
      break;
    case 'stopping':
      draft.stopping = true;
      break;
    case 'send-failed':
      if (!draft.stopping) fail(draft, event.pod, `sending the workspace failed: ${event.message}`);
      break;
    case 'watch-failed':
      finish(draft, { ...NO_EXIT, error: `watching the ${event.what} failed: ${event.message}` });
      break;
    case 'note':
      sayOnce(draft, event.key, event.message);
      break;
  }
  const { effects, ...next } = draft;
  return { state: next, effects };
}

/** The exit code and OOM flag of the newest pod's workload container, if one ended. */
export function lastExit(state: Pick<TrackerState, 'pods' | 'order'>): ExitStatus {
  for (const name of [...state.order].reverse()) {
    const terminated = workloadStatus(state.pods.get(name) ?? {})?.state?.terminated;
    if (terminated)
      return { exitCode: terminated.exitCode, oomKilled: terminated.reason === 'OOMKilled' };
  }
  return NO_EXIT;
}

function sayOnce(draft: Draft, key: string, message: string): void {
  if (draft.said.has(key)) return;
  draft.said.add(key);
  draft.effects.push({ kind: 'log', message });
}

function finish(draft: Draft, status: ExitStatus): void {
  if (draft.settled) return;
  draft.settled = true;
  draft.effects.push({ kind: 'finish', status });
}

function fail(draft: Draft, pod: string | undefined, reason: string, exit = NO_EXIT): void {
  if (draft.settled) return;
  draft.settled = true;
  draft.effects.push({ kind: 'fail', ...(pod ? { pod } : {}), status: { ...exit, error: reason } });
}

function onPod(config: TrackerConfig, draft: Draft, change: string, pod: V1Pod, now: number) {
  const name = pod.metadata!.name!;
  if (!draft.pods.has(name)) draft.order.push(name);
  if (change !== 'DELETED') draft.pods.set(name, pod);
  scheduling(draft, name, pod, now);
  containers(draft, name, pod);
  keeper(config, draft, change, name, pod);
  ending(config, draft, name, pod);
  eviction(draft, name, pod);
}

function scheduling(draft: Draft, name: string, pod: V1Pod, now: number): void {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const marks = draft.marks.get(name) ?? { seen: now };
  const state = workloadStatus(pod)?.state;
  const started = state?.running !== undefined || state?.terminated !== undefined;
  draft.marks.set(name, {
    ...marks,
    ...(scheduled?.status === 'True' && marks.scheduled === undefined ? { scheduled: now } : {}),
    ...(started && marks.running === undefined ? { running: now } : {}),
    ...(state?.terminated && marks.ended === undefined ? { ended: now } : {}),
  });
  if (scheduled?.status === 'True') {
    sayOnce(draft, `${name}/scheduled`, `Pod ${name} scheduled on node ${pod.spec?.nodeName}.`);
    delete draft.unschedulableSince;
  } else if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    draft.unschedulableSince ??= now;
    sayOnce(
      draft,
      `${name}/unschedulable`,
      `Pod ${name} cannot be scheduled yet: ${scheduled.message}`,
    );
  }
}

/** The keeper starts first and pulls the same image: a pull failure shows on either. */
function containers(draft: Draft, name: string, pod: V1Pod): void {
  const image = pod.spec?.containers[0];
  for (const container of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const waiting = container.state?.waiting;
    if (waiting?.reason === 'ContainerCreating' || waiting?.reason === 'PodInitializing')
      sayOnce(
        draft,
        `${name}/creating`,
        `Pulling ${image?.image} (pull policy ${image?.imagePullPolicy}) and creating the containers…`,
      );
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason))
      fail(
        draft,
        name,
        `the ${container.name} container cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trim(),
      );
  }
  if (workloadStatus(pod)?.state?.running)
    sayOnce(draft, `${name}/running`, `Pod ${name} is running.`);
}

function keeper(config: TrackerConfig, draft: Draft, change: string, name: string, pod: V1Pod) {
  const running = keeperStatus(pod)?.state?.running !== undefined;
  if (running && !draft.sent.has(name) && change !== 'DELETED') {
    draft.sent.add(name);
    draft.effects.push({ kind: 'send', pod: name });
  }
  // A pod deleted under a running workload (deadline, eviction, someone else): the kubelet
  // stops all its containers at once and reports none ended until all have, so the results
  // cannot be fetched. Let the keeper go at once rather than hold the pod's grace.
  const ended = workloadStatus(pod)?.state?.terminated !== undefined;
  if (
    pod.metadata?.deletionTimestamp &&
    running &&
    !ended &&
    draft.collecting === undefined &&
    !draft.released.has(name)
  ) {
    draft.released.add(name);
    if (!draft.stopping)
      draft.effects.push({
        kind: 'log',
        message: `Pod ${name} is being deleted before its workload ended: only its log comes back.`,
      });
    draft.effects.push({ kind: 'release', pod: name });
  }
  if (ended && running && config.collects && draft.collecting === undefined && !draft.stopping) {
    draft.collecting = name;
    draft.effects.push({ kind: 'collect', pod: name });
  }
}

function ending(config: TrackerConfig, draft: Draft, name: string, pod: V1Pod): void {
  const terminated = workloadStatus(pod)?.state?.terminated;
  if (!terminated) return;
  sayOnce(
    draft,
    `${name}/terminated`,
    `Pod ${name} finished: exit code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}.`,
  );
  // Exit 0 of the newest pod's workload decides the Job: the pod will succeed (a sidecar's exit
  // does not count) and the Job complete. The kubelet and the Job controller take seconds more
  // to say so; the verdict need not wait for them. Any other exit waits for the Job, which may
  // yet retry it as a disruption.
  if (terminated.exitCode === 0 && !pod.metadata?.deletionTimestamp && name === draft.order.at(-1))
    finish(draft, lastExit(draft));
}

/**
 * Evicted by the kubelet (node pressure), or disrupted through the API (eviction, preemption,
 * drain): the podFailurePolicy lets the Job start another pod.
 */
function eviction(draft: Draft, name: string, pod: V1Pod): void {
  const disruption = pod.status?.conditions?.find(
    (c) => c.type === 'DisruptionTarget' && c.status === 'True',
  );
  if ((pod.status?.reason !== 'Evicted' && !disruption) || draft.said.has(`${name}/evicted`))
    return;
  sayOnce(
    draft,
    `${name}/evicted`,
    `Pod ${name} was evicted (${disruption?.reason ?? pod.status?.reason}: ${disruption?.message ?? pod.status?.message}); the Job starts it again (a disruption is not counted against its ${DISRUPTION_RETRIES} retries).`,
  );
  draft.effects.push({ kind: 'show-events', pod: name });
}

function onJob(config: TrackerConfig, draft: Draft, change: string, job: V1Job): void {
  if (change === 'DELETED') {
    finish(draft, { ...lastExit(draft), error: 'the Job was deleted' });
    return;
  }
  const conditions = job.status?.conditions ?? [];
  const holds = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  if (holds('FailureTarget')?.reason === 'DeadlineExceeded')
    sayOnce(
      draft,
      'deadline',
      `The Job reached its deadline (activeDeadlineSeconds): its pod is stopped.`,
    );
  const failed = holds('Failed');
  const exit = lastExit(draft);
  const newest = draft.order.at(-1);
  const index = config.index;
  if (index !== undefined && indexSet(job.status?.completedIndexes).has(index)) finish(draft, exit);
  else if (index !== undefined && indexSet(job.status?.failedIndexes).has(index) && !failed) {
    // This index is done for, whatever the others do: its workload's exit, or its retries spent.
    if (exit.exitCode !== undefined) finish(draft, exit);
    else fail(draft, newest, `index ${index} failed: its retries are spent`, exit);
  }
  if (holds('Complete')) finish(draft, exit);
  else if (failed?.reason === 'DeadlineExceeded')
    finish(draft, { ...exit, timedOut: true, error: `DeadlineExceeded: ${failed.message}` });
  else if (failed?.reason === 'BackoffLimitExceeded')
    fail(draft, newest, `the retry budget is spent: ${failed.message}`, exit);
  else if (failed)
    finish(draft, {
      ...exit,
      ...(exit.exitCode === undefined ? { error: `${failed.reason}: ${failed.message}` } : {}),
    });
}

function onTick(config: TrackerConfig, draft: Draft, now: number): void {
  if (
    draft.unschedulableSince !== undefined &&
    now - draft.unschedulableSince > config.schedulingTimeoutMs
  )
    fail(
      draft,
      draft.order.at(-1),
      `the pod could not be scheduled within ${config.schedulingTimeoutMs / 1000}s`,
    );
}
