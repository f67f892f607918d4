/**
 * One Job's events, watched once for every workload that follows it: one list-then-watch of its
 * pods, one of the Job, and one clock. An Indexed Job's shards each follow one index, so each pod
 * goes only to the workload of its index; the Job, the ticks and a failed watch go to every one.
 * The watches start with the first subscriber and stop when the last one leaves.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { apiMessage, type Cluster } from './client.js';
import type { TrackerEvent } from './pod-tracker.js';
import { jobPodSelector, podIndex } from './pods.js';
import { listAndWatch, type WatchOptions } from './watch.js';

/** What the watches and the clock tell a workload. */
export type JobEvent = Extract<TrackerEvent, { kind: 'pod' | 'job' | 'tick' | 'watch-failed' }>;

export type JobEventHandler = (event: JobEvent) => void;

export interface JobEventsOptions {
  readonly cluster: Pick<Cluster, 'config' | 'namespace' | 'core' | 'batch'>;
  /** The Job's name. */
  readonly name: string;
  /** list-then-watch (watch.ts); a test gives its own. */
  readonly listAndWatch?: <T extends { metadata?: { resourceVersion?: string } }>(
    options: WatchOptions<T>,
  ) => Promise<void>;
  readonly tickMs?: number;
  readonly now?: () => number;
}

interface Subscriber {
  /** The index whose pods it is given; undefined: every pod. */
  readonly index: number | undefined;
  readonly handler: JobEventHandler;
}

export class JobEvents {
  readonly #options: JobEventsOptions;
  readonly #subscribers = new Set<Subscriber>();
  /** The subscribers of each index; under undefined, those given every pod. */
  readonly #byIndex = new Map<number | undefined, Set<Subscriber>>();
  readonly #stop = new AbortController();
  /** The newest of each pod seen and not deleted, and of the Job: what a newcomer is told. */
  readonly #pods = new Map<string, V1Pod>();
  #job: V1Job | undefined;
  #failures: JobEvent[] = [];
  #started = false;

  constructor(options: JobEventsOptions) {
    this.#options = options;
  }

  /**
   * Hands `handler` the pods of `index` (every pod when undefined), the Job, the ticks and a
   * failed watch, from now on: what was seen before it came is told to it first, as a list
   * would. Returns its unsubscribe; the last one stops the watches.
   */
  subscribe(index: number | undefined, handler: JobEventHandler): () => void {
    if (this.#stop.signal.aborted)
      throw new Error(`The watches of Job ${this.#options.name} ended.`);
    const subscriber: Subscriber = { index, handler };
    this.#subscribers.add(subscriber);
    const ofIndex = this.#byIndex.get(index) ?? new Set();
    this.#byIndex.set(index, ofIndex.add(subscriber));
    if (!this.#started) this.#start();
    else this.#catchUp(subscriber);
    return () => this.#leave(subscriber);
  }

  #leave(subscriber: Subscriber): void {
    this.#subscribers.delete(subscriber);
    this.#byIndex.get(subscriber.index)?.delete(subscriber);
    if (this.#subscribers.size === 0) this.#stop.abort();
  }

  #start(): void {
    this.#started = true;
    const { cluster, name } = this.#options;
    const watch = this.#options.listAndWatch ?? listAndWatch;
    const now = this.#options.now ?? Date.now;
    const ns = cluster.namespace;
    const failed = (what: string) => (error: unknown) =>
      this.#failed({ kind: 'watch-failed', what, message: apiMessage(error) });
    const pods = jobPodSelector(name);
    void watch<V1Pod>({
      config: cluster.config,
      path: `/api/v1/namespaces/${ns}/pods`,
      query: { labelSelector: pods },
      list: () => cluster.core.listNamespacedPod({ namespace: ns, labelSelector: pods }),
      onEvent: (change, pod) => this.#pod(change, pod, now()),
      signal: this.#stop.signal,
    }).catch(failed('pods'));
    const job = `metadata.name=${name}`;
    void watch<V1Job>({
      config: cluster.config,
      path: `/apis/batch/v1/namespaces/${ns}/jobs`,
      query: { fieldSelector: job },
      list: () => cluster.batch.listNamespacedJob({ namespace: ns, fieldSelector: job }),
      onEvent: (change, job) => this.#jobChanged(change, job),
      signal: this.#stop.signal,
    }).catch(failed('Job'));
    const timer = setInterval(
      () => this.#deliver(this.#subscribers, { kind: 'tick', now: now() }),
      this.#options.tickMs ?? 1000,
    );
    this.#stop.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  #pod(change: string, pod: V1Pod, now: number): void {
    const name = pod.metadata?.name;
    if (name !== undefined) {
      if (change === 'DELETED') this.#pods.delete(name);
      else this.#pods.set(name, pod);
    }
    // Looked up by index: an event costs its own workload, not a walk past every index's.
    const index = podIndex(pod);
    const to = [...(this.#byIndex.get(index) ?? [])];
    if (index !== undefined) to.push(...(this.#byIndex.get(undefined) ?? []));
    this.#deliver(to, { kind: 'pod', change, pod, now });
  }

  #jobChanged(change: string, job: V1Job): void {
    this.#job = change === 'DELETED' ? undefined : job;
    this.#deliver(this.#subscribers, { kind: 'job', change, job });
  }

  #failed(event: JobEvent): void {
    if (this.#stop.signal.aborted) return;
    this.#failures.push(event);
    this.#deliver(this.#subscribers, event);
  }

  /** A newcomer is told the pods and the Job as they are, and any watch that failed. */
  #catchUp(subscriber: Subscriber): void {
    const now = (this.#options.now ?? Date.now)();
    const only = [subscriber];
    for (const pod of this.#pods.values()) {
      if (subscriber.index === undefined || podIndex(pod) === subscriber.index)
        this.#deliver(only, { kind: 'pod', change: 'ADDED', pod, now });
    }
    if (this.#job) this.#deliver(only, { kind: 'job', change: 'ADDED', job: this.#job });
    for (const failure of this.#failures) this.#deliver(only, failure);
  }

  /**
   * Hands the event to each subscriber chosen, each on its own: one whose handler throws is
   * told so, as a failed watch, and given nothing more; the others get the event all the same.
   */
  #deliver(to: Iterable<Subscriber>, event: JobEvent): void {
    for (const subscriber of [...to]) {
      // One that left while the event went round is given no more.
      if (!this.#subscribers.has(subscriber)) continue;
      try {
        subscriber.handler(event);
      } catch (error) {
        this.#leave(subscriber);
        const message = `following a ${event.kind} event failed: ${(error as Error).message}`;
        try {
          subscriber.handler({ kind: 'watch-failed', what: "Job's events", message });
        } catch {
          // It cannot take even that: it has been told all it can be.
        }
      }
    }
  }
}
