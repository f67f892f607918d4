import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type JobEvent, JobEvents } from '../../../src/runtime/kubernetes/job-events.js';
import type { WatchOptions } from '../../../src/runtime/kubernetes/watch.js';

/** A list-then-watch that opens nothing: the test plays the API server through each call's own. */
function fakeWatches() {
  const calls: { options: WatchOptions<never>; fail: (error: Error) => void }[] = [];
  const listAndWatch = <T>(options: WatchOptions<T>) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ options: options as unknown as WatchOptions<never>, fail: reject });
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  const of = (kind: 'pods' | 'jobs') => {
    const call = calls.find((c) => c.options.path.endsWith(`/${kind}`));
    if (!call) throw new Error(`no ${kind} watch`);
    return call;
  };
  return {
    calls,
    listAndWatch,
    pod: (change: string, pod: V1Pod) => of('pods').options.onEvent(change as never, pod as never),
    job: (change: string, job: V1Job) => of('jobs').options.onEvent(change as never, job as never),
    fail: (kind: 'pods' | 'jobs', message: string) => of(kind).fail(new Error(message)),
  };
}

const cluster = { namespace: 'ns', config: {}, core: {}, batch: {} } as never;

function pod(name: string, index?: number, on: 'label' | 'annotation' = 'label'): V1Pod {
  const mark: Record<string, string> =
    index === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': `${index}` };
  return {
    metadata: {
      name,
      labels: { 'batch.kubernetes.io/job-name': 'prodigy-x', ...(on === 'label' ? mark : {}) },
      ...(on === 'annotation' ? { annotations: mark } : {}),
    },
  };
}

/** n subscribers of indexes 0..n-1, each with the events it was given. */
function subscribe(events: JobEvents, n: number) {
  const seen: JobEvent[][] = Array.from({ length: n }, () => []);
  const leave = seen.map((list, index) => events.subscribe(index, (event) => list.push(event)));
  return { seen, leave };
}

const podNames = (events: readonly JobEvent[]) =>
  events.flatMap((e) => (e.kind === 'pod' ? [e.pod.metadata!.name] : []));

afterEach(() => {
  vi.useRealTimers();
});

describe('JobEvents', () => {
  it('opens one watch of every index’s pods and one of the Job, however many follow it', () => {
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
    });
    const { leave } = subscribe(events, 16);
    expect(watches.calls.map((c) => [c.options.path, c.options.query])).toEqual([
      ['/api/v1/namespaces/ns/pods', { labelSelector: 'batch.kubernetes.io/job-name=prodigy-x' }],
      ['/apis/batch/v1/namespaces/ns/jobs', { fieldSelector: 'metadata.name=prodigy-x' }],
    ]);
    leave.forEach((unsubscribe) => unsubscribe());
  });

  it('gives each pod only to the workload of its index, by label or annotation', () => {
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
    });
    const { seen, leave } = subscribe(events, 3);
    const all: JobEvent[] = [];
    const leaveAll = events.subscribe(undefined, (event) => all.push(event));
    watches.pod('ADDED', pod('x-0-a', 0));
    watches.pod('ADDED', pod('x-2-a', 2, 'annotation'));
    watches.pod('MODIFIED', pod('x-0-a', 0));
    watches.pod('ADDED', pod('stray'));
    expect(seen.map(podNames)).toEqual([['x-0-a', 'x-0-a'], [], ['x-2-a']]);
    expect(podNames(all)).toEqual(['x-0-a', 'x-2-a', 'x-0-a', 'stray']);
    [...leave, leaveAll].forEach((unsubscribe) => unsubscribe());
  });

  it('gives the Job, every tick and a failed watch to every workload', () => {
    vi.useFakeTimers();
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
      tickMs: 1000,
      now: () => 42,
    });
    const { seen, leave } = subscribe(events, 3);
    const job: V1Job = { metadata: { name: 'prodigy-x' }, status: { completedIndexes: '1' } };
    watches.job('MODIFIED', job);
    vi.advanceTimersByTime(2000);
    for (const list of seen) {
      expect(list).toEqual([
        { kind: 'job', change: 'MODIFIED', job },
        { kind: 'tick', now: 42 },
        { kind: 'tick', now: 42 },
      ]);
    }
    leave.forEach((unsubscribe) => unsubscribe());
  });

  it('tells every workload of a watch that failed', async () => {
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
    });
    const { seen, leave } = subscribe(events, 2);
    watches.fail('pods', 'pods is forbidden');
    await new Promise((resolve) => setImmediate(resolve));
    for (const list of seen)
      expect(list).toEqual([{ kind: 'watch-failed', what: 'pods', message: 'pods is forbidden' }]);
    leave.forEach((unsubscribe) => unsubscribe());
  });

  it('stops the watches and the clock when the last workload leaves, and not before', () => {
    vi.useFakeTimers();
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
    });
    const { seen, leave } = subscribe(events, 3);
    const signals = watches.calls.map((c) => c.options.signal);
    leave[0]!();
    leave[2]!();
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    vi.advanceTimersByTime(1000);
    expect(seen.map((list) => list.length)).toEqual([0, 1, 0]);
    leave[1]!();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => events.subscribe(0, () => {})).toThrow(/ended/);
  });

  it('tells a workload that comes late the pods of its index and the Job as they are now', async () => {
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
    });
    const first = events.subscribe(0, () => {});
    watches.pod('ADDED', pod('x-1-a', 1));
    watches.pod('ADDED', pod('x-1-b', 1));
    watches.pod('DELETED', pod('x-1-a', 1));
    watches.pod('ADDED', pod('x-0-a', 0));
    const job: V1Job = { metadata: { name: 'prodigy-x' } };
    watches.job('ADDED', job);
    watches.fail('jobs', 'gone');
    await new Promise((resolve) => setImmediate(resolve));
    const late: JobEvent[] = [];
    const second = events.subscribe(1, (event) => late.push(event));
    expect(late.map((e) => [e.kind, e.kind === 'pod' ? e.pod.metadata!.name : undefined])).toEqual([
      ['pod', 'x-1-b'],
      ['job', undefined],
      ['watch-failed', undefined],
    ]);
    expect(watches.calls).toHaveLength(2);
    first();
    second();
  });

  it('keeps a workload whose handler throws from costing the others the event', () => {
    const watches = fakeWatches();
    const events = new JobEvents({
      cluster,
      name: 'prodigy-x',
      listAndWatch: watches.listAndWatch,
    });
    const told: JobEvent[] = [];
    const leaveBad = events.subscribe(0, (event) => {
      if (event.kind === 'pod') throw new Error('boom');
      told.push(event);
    });
    const { seen, leave } = subscribe(events, 1);
    watches.pod('ADDED', pod('x-0-a', 0));
    watches.pod('MODIFIED', pod('x-0-a', 0));
    expect(podNames(seen[0]!)).toEqual(['x-0-a', 'x-0-a']);
    expect(told).toEqual([
      {
        kind: 'watch-failed',
        what: "Job's events",
        message: 'following a pod event failed: boom',
      },
    ]);
    leaveBad();
    leave.forEach((unsubscribe) => unsubscribe());
  });
});
