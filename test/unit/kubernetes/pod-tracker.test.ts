import type { V1ContainerState, V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ExitStatus } from '../../../src/runtime/types.js';
import {
  type Effect,
  INITIAL_STATE,
  lastExit,
  track,
  type TrackerConfig,
  type TrackerEvent,
  type TrackerState,
} from '../../../src/runtime/kubernetes/pod-tracker.js';

const CONFIG: TrackerConfig = { collects: true, schedulingTimeoutMs: 120_000 };

interface PodShape {
  scheduled?: 'yes' | 'unschedulable';
  keeper?: V1ContainerState;
  workload?: V1ContainerState;
  deleting?: boolean;
  evicted?: boolean;
  disrupted?: boolean;
  phase?: string;
}

/** A pod as the API server reports it, with just the fields the tracker reads. */
function pod(name: string, shape: PodShape = {}): V1Pod {
  return {
    metadata: {
      name,
      ...(shape.deleting ? { deletionTimestamp: new Date('2026-12-04T00:00:00Z') } : {}),
    },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'workload', image: 'agent:1', imagePullPolicy: 'IfNotPresent' }],
    },
    status: {
      ...(shape.phase ? { phase: shape.phase } : {}),
      ...(shape.evicted ? { reason: 'Evicted', message: 'The node was low on memory.' } : {}),
      conditions: [
        ...(shape.scheduled === 'yes' ? [{ type: 'PodScheduled', status: 'True' }] : []),
        ...(shape.scheduled === 'unschedulable'
          ? [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: '0/1 nodes are available: 1 Insufficient memory.',
              },
            ]
          : []),
        ...(shape.disrupted
          ? [
              {
                type: 'DisruptionTarget',
                status: 'True',
                reason: 'EvictionByEvictionAPI',
                message: 'Eviction API: evicting',
              },
            ]
          : []),
      ],
      ...(shape.keeper
        ? {
            initContainerStatuses: [
              {
                name: 'keeper',
                state: shape.keeper,
                image: 'agent:1',
                imageID: '',
                ready: false,
                restartCount: 0,
              },
            ],
          }
        : {}),
      ...(shape.workload
        ? {
            containerStatuses: [
              {
                name: 'workload',
                state: shape.workload,
                image: 'agent:1',
                imageID: '',
                ready: false,
                restartCount: 0,
              },
            ],
          }
        : {}),
    },
  };
}

const RUNNING: V1ContainerState = { running: { startedAt: new Date() } };
const ended = (exitCode: number, reason?: string): V1ContainerState => ({
  terminated: { exitCode, ...(reason ? { reason } : {}) },
});
const waiting = (reason: string, message?: string): V1ContainerState => ({
  waiting: { reason, ...(message ? { message } : {}) },
});

function job(status: V1Job['status']): V1Job {
  return { metadata: { name: 'cook-abc' }, status };
}
const jobSeen = (status: V1Job['status']): TrackerEvent => ({
  kind: 'job',
  change: 'MODIFIED',
  job: job(status),
});
const condition = (type: string, reason?: string, message?: string) => ({
  type,
  status: 'True',
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

const seen = (p: V1Pod, now = 0, change = 'MODIFIED'): TrackerEvent => ({
  kind: 'pod',
  change,
  pod: p,
  now,
});

/** Folds the events in order; every effect, in the order given. */
function run(events: TrackerEvent[], config = CONFIG, from = INITIAL_STATE) {
  let state: TrackerState = from;
  const effects: Effect[] = [];
  for (const event of events) {
    const step = track(config, state, event);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

/** The verdict given after the pod's events are shown. */
const failure = (pod: string, error: string, exit: Partial<ExitStatus> = {}): Effect => ({
  kind: 'fail',
  pod,
  status: { exitCode: undefined, oomKilled: false, ...exit, error },
});

const logs = (effects: Effect[]) => effects.flatMap((e) => (e.kind === 'log' ? [e.message] : []));
const verdicts = (effects: Effect[]) =>
  effects.filter((e) => e.kind === 'finish' || e.kind === 'fail');

describe('the pod tracker', () => {
  it('leaves the state it is given as it was', () => {
    const before = run([seen(pod('p1', { scheduled: 'yes' }), 5)]).state;
    const copy = structuredClone({ ...before, pods: [...before.pods], marks: [...before.marks] });
    track(CONFIG, before, seen(pod('p1', { scheduled: 'yes', keeper: RUNNING }), 9));
    expect({ ...before, pods: [...before.pods], marks: [...before.marks] }).toEqual(copy);
  });

  describe('scheduling', () => {
    it('says once on which node a pod is scheduled, and marks when', () => {
      const { state, effects } = run([
        seen(pod('p1'), 100, 'ADDED'),
        seen(pod('p1', { scheduled: 'yes' }), 350),
        seen(pod('p1', { scheduled: 'yes' }), 400),
      ]);
      expect(logs(effects)).toEqual(['Pod p1 scheduled on node node-1.']);
      expect(state.marks.get('p1')).toEqual({ seen: 100, scheduled: 350 });
      expect(state.order).toEqual(['p1']);
    });

    it('fails a pod unschedulable past the scheduling timeout, with its events', () => {
      const config = { ...CONFIG, schedulingTimeoutMs: 10_000 };
      const waitingLong = run(
        [
          seen(pod('p1', { scheduled: 'unschedulable' }), 1_000),
          seen(pod('p1', { scheduled: 'unschedulable' }), 3_000),
          { kind: 'tick', now: 6_000 },
          { kind: 'tick', now: 11_000 },
        ],
        config,
      );
      expect(logs(waitingLong.effects)).toEqual([
        'Pod p1 cannot be scheduled yet: 0/1 nodes are available: 1 Insufficient memory.',
      ]);
      expect(verdicts(waitingLong.effects)).toEqual([]);
      const { effects } = run(
        [
          { kind: 'tick', now: 11_001 },
          { kind: 'tick', now: 12_000 },
        ],
        config,
        waitingLong.state,
      );
      expect(verdicts(effects)).toEqual([
        failure('p1', 'the pod could not be scheduled within 10s'),
      ]);
    });

    it('stops counting once the pod is scheduled', () => {
      const config = { ...CONFIG, schedulingTimeoutMs: 10_000 };
      const { state, effects } = run(
        [
          seen(pod('p1', { scheduled: 'unschedulable' }), 1_000),
          seen(pod('p1', { scheduled: 'yes' }), 5_000),
          { kind: 'tick', now: 60_000 },
        ],
        config,
      );
      expect(state.unschedulableSince).toBeUndefined();
      expect(verdicts(effects)).toEqual([]);
    });
  });

  describe('pulling and starting', () => {
    it('says once that it pulls the image, naming it and the pull policy', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', keeper: waiting('PodInitializing') })),
        seen(pod('p1', { scheduled: 'yes', keeper: waiting('ContainerCreating') })),
      ]);
      expect(logs(effects)).toContain(
        'Pulling agent:1 (pull policy IfNotPresent) and creating the containers…',
      );
      expect(logs(effects).filter((l) => l.startsWith('Pulling'))).toHaveLength(1);
    });

    it.each([
      ['keeper', 'ErrImagePull'],
      ['keeper', 'ImagePullBackOff'],
      ['keeper', 'InvalidImageName'],
      ['workload', 'CreateContainerConfigError'],
      ['workload', 'CreateContainerError'],
    ] as const)(
      'fails at once when the %s container has %s, with the pod events',
      (name, reason) => {
        const shape = { scheduled: 'yes', [name]: waiting(reason, 'not found') } as const;
        const { state, effects } = run([seen(pod('p1', shape)), seen(pod('p1', shape))]);
        expect(state.settled).toBe(true);
        expect(verdicts(effects)).toEqual([
          failure('p1', `the ${name} container cannot start: ${reason}: not found`),
        ]);
      },
    );

    it('waits through a pull that is merely slow', () => {
      const { state } = run([
        seen(pod('p1', { scheduled: 'yes', keeper: waiting('ContainerCreating') })),
      ]);
      expect(state.settled).toBe(false);
    });

    it('sends the workspace once, when the keeper runs', () => {
      const { state, effects } = run([
        seen(pod('p1', { scheduled: 'yes', keeper: waiting('PodInitializing') })),
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING })),
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING })),
      ]);
      expect(effects.filter((e) => e.kind === 'send')).toEqual([{ kind: 'send', pod: 'p1' }]);
      expect(state.sent.has('p1')).toBe(true);
    });

    it('sends nothing to a pod that is gone', () => {
      const gone = pod('p1', { scheduled: 'yes', keeper: RUNNING });
      expect(run([seen(gone, 0, 'DELETED')]).effects.filter((e) => e.kind === 'send')).toEqual([]);
    });

    it('says once that the workload runs, and marks when', () => {
      const { state, effects } = run([
        seen(pod('p1', { scheduled: 'yes' }), 10),
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: RUNNING }), 70),
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: RUNNING }), 90),
      ]);
      expect(logs(effects).filter((l) => l === 'Pod p1 is running.')).toHaveLength(1);
      expect(state.marks.get('p1')).toEqual({ seen: 10, scheduled: 10, running: 70 });
    });

    it('fails when the workspace cannot be sent, but not once the Job is being stopped', () => {
      const failed: TrackerEvent = { kind: 'send-failed', pod: 'p1', message: 'exec closed' };
      expect(verdicts(run([failed]).effects)).toEqual([
        failure('p1', 'sending the workspace failed: exec closed'),
      ]);
      expect(verdicts(run([{ kind: 'stopping' }, failed]).effects)).toEqual([]);
    });
  });

  describe('the end of the workload and collection', () => {
    const running = pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: RUNNING });

    it('brings the results back, then gives the verdict of exit 0 at once', () => {
      const { state, effects } = run([
        seen(running, 0),
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: ended(0) }), 2_000),
      ]);
      expect(effects.slice(-3)).toEqual([
        { kind: 'collect', pod: 'p1' },
        { kind: 'log', message: 'Pod p1 finished: exit code 0.' },
        { kind: 'finish', status: { exitCode: 0, oomKilled: false } },
      ]);
      expect(state.collecting).toBe('p1');
      expect(state.marks.get('p1')?.ended).toBe(2_000);
    });

    it('collects once, and not at all with no folders to bring back', () => {
      const done = pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: ended(0) });
      const twice = run([seen(running), seen(done), seen(done)]).effects;
      expect(twice.filter((e) => e.kind === 'collect')).toHaveLength(1);
      const none = run([seen(running), seen(done)], { ...CONFIG, collects: false }).effects;
      expect(none.filter((e) => e.kind === 'collect')).toEqual([]);
      expect(verdicts(none)).toEqual([
        { kind: 'finish', status: { exitCode: 0, oomKilled: false } },
      ]);
    });

    it('does not collect once the Job is being stopped', () => {
      const done = pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: ended(143) });
      const { effects } = run([seen(running), { kind: 'stopping' }, seen(done)]);
      expect(effects.filter((e) => e.kind === 'collect')).toEqual([]);
    });

    it('waits for the Job on a failing exit, which may yet be retried', () => {
      const done = pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: ended(3) });
      const { state, effects } = run([seen(running), seen(done)]);
      expect(verdicts(effects)).toEqual([]);
      expect(state.settled).toBe(false);
      const failed = job({ conditions: [condition('Failed', 'PodFailurePolicy', 'exit 3')] });
      expect(
        verdicts(run([{ kind: 'job', change: 'MODIFIED', job: failed }], CONFIG, state).effects),
      ).toEqual([{ kind: 'finish', status: { exitCode: 3, oomKilled: false } }]);
    });

    it('reads an out-of-memory kill from the workload container', () => {
      const oom = pod('p1', {
        scheduled: 'yes',
        keeper: RUNNING,
        workload: ended(137, 'OOMKilled'),
      });
      const { state, effects } = run([
        seen(running),
        seen(oom),
        jobSeen({ conditions: [condition('Failed', 'PodFailurePolicy', 'x')] }),
      ]);
      expect(logs(effects)).toContain('Pod p1 finished: exit code 137 (OOMKilled).');
      expect(lastExit(state)).toEqual({ exitCode: 137, oomKilled: true });
      expect(verdicts(effects)).toEqual([
        { kind: 'finish', status: { exitCode: 137, oomKilled: true } },
      ]);
    });

    it('lets the keeper go when the pod is deleted under a running workload', () => {
      const deleting = pod('p1', {
        scheduled: 'yes',
        keeper: RUNNING,
        workload: RUNNING,
        deleting: true,
      });
      const { state, effects } = run([seen(running), seen(deleting), seen(deleting)]);
      expect(effects.filter((e) => e.kind === 'release')).toEqual([{ kind: 'release', pod: 'p1' }]);
      expect(logs(effects)).toContain(
        'Pod p1 is being deleted before its workload ended: only its log comes back.',
      );
      expect(state.released.has('p1')).toBe(true);
      // Stopped by the engine: the keeper goes, without a word.
      const stopped = run([seen(running), { kind: 'stopping' }, seen(deleting)]).effects;
      expect(stopped.filter((e) => e.kind === 'release')).toHaveLength(1);
      expect(logs(stopped).filter((l) => l.includes('being deleted'))).toEqual([]);
    });

    it('does not take exit 0 of a pod being deleted as the verdict', () => {
      const gone = pod('p1', {
        scheduled: 'yes',
        keeper: RUNNING,
        workload: ended(0),
        deleting: true,
      });
      expect(verdicts(run([seen(running), seen(gone)]).effects)).toEqual([]);
    });
  });

  describe('eviction and retry', () => {
    it('says once that a pod was evicted and shows its events', () => {
      const evicted = pod('p1', { scheduled: 'yes', phase: 'Failed', evicted: true });
      const { effects } = run([seen(evicted), seen(evicted)]);
      expect(logs(effects).filter((l) => l.includes('evicted'))).toEqual([
        'Pod p1 was evicted (Evicted: The node was low on memory.); the Job starts it again (a disruption is not counted against its 3 retries).',
      ]);
      expect(effects.filter((e) => e.kind === 'show-events')).toEqual([
        { kind: 'show-events', pod: 'p1' },
      ]);
    });

    it('names the disruption an eviction through the API gave', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', workload: RUNNING, disrupted: true })),
      ]);
      expect(
        logs(effects).some((l) => l.includes('(EvictionByEvictionAPI: Eviction API: evicting)')),
      ).toBe(true);
    });

    it('follows the retry: only the newest pod decides', () => {
      const { state, effects } = run([
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: RUNNING })),
        seen(
          pod('p1', { scheduled: 'yes', disrupted: true, phase: 'Failed', workload: ended(137) }),
        ),
        seen(pod('p2', { scheduled: 'yes' }), 0, 'ADDED'),
        seen(pod('p1', {}), 0, 'DELETED'),
        seen(pod('p2', { scheduled: 'yes', keeper: RUNNING, workload: RUNNING })),
      ]);
      expect(state.order).toEqual(['p1', 'p2']);
      expect(verdicts(effects)).toEqual([]);
      expect(effects.filter((e) => e.kind === 'send')).toEqual([
        { kind: 'send', pod: 'p1' },
        { kind: 'send', pod: 'p2' },
      ]);
      const done = run(
        [seen(pod('p2', { scheduled: 'yes', keeper: RUNNING, workload: ended(0) }))],
        CONFIG,
        state,
      );
      expect(verdicts(done.effects)).toEqual([
        { kind: 'finish', status: { exitCode: 0, oomKilled: false } },
      ]);
    });

    it('does not take a late exit 0 of an older pod as the verdict', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: RUNNING })),
        seen(pod('p2', { scheduled: 'yes' }), 0, 'ADDED'),
        seen(pod('p1', { scheduled: 'yes', keeper: RUNNING, workload: ended(0) })),
      ]);
      expect(verdicts(effects)).toEqual([]);
    });

    it('fails with the events when the retry budget is spent', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', workload: ended(1) })),
        jobSeen({
          conditions: [
            condition(
              'Failed',
              'BackoffLimitExceeded',
              'Job has reached the specified backoff limit',
            ),
          ],
        }),
      ]);
      expect(verdicts(effects)).toEqual([
        failure('p1', 'the retry budget is spent: Job has reached the specified backoff limit', {
          exitCode: 1,
        }),
      ]);
    });
  });

  describe('the Job', () => {
    it('says the deadline was reached, then gives a timed-out verdict', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', workload: RUNNING })),
        jobSeen({ conditions: [condition('FailureTarget', 'DeadlineExceeded')] }),
        jobSeen({ conditions: [condition('FailureTarget', 'DeadlineExceeded')] }),
        jobSeen({
          conditions: [
            condition(
              'Failed',
              'DeadlineExceeded',
              'Job was active longer than specified deadline',
            ),
          ],
        }),
      ]);
      expect(logs(effects).filter((l) => l.includes('deadline'))).toEqual([
        'The Job reached its deadline (activeDeadlineSeconds): its pod is stopped.',
      ]);
      expect(verdicts(effects)).toEqual([
        {
          kind: 'finish',
          status: {
            exitCode: undefined,
            oomKilled: false,
            timedOut: true,
            error: 'DeadlineExceeded: Job was active longer than specified deadline',
          },
        },
      ]);
    });

    it('takes a complete Job as the newest exit', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', workload: ended(0), deleting: true })),
        jobSeen({ conditions: [condition('Complete')] }),
      ]);
      expect(verdicts(effects)).toEqual([
        { kind: 'finish', status: { exitCode: 0, oomKilled: false } },
      ]);
    });

    it('names the reason a Job failed without any exit', () => {
      const { effects } = run([
        jobSeen({ conditions: [condition('Failed', 'PodFailurePolicy', 'rule 1')] }),
      ]);
      expect(verdicts(effects)).toEqual([
        {
          kind: 'finish',
          status: { exitCode: undefined, oomKilled: false, error: 'PodFailurePolicy: rule 1' },
        },
      ]);
    });

    it('fails when the Job is deleted, and when a watch fails', () => {
      expect(verdicts(run([{ kind: 'job', change: 'DELETED', job: job({}) }]).effects)).toEqual([
        {
          kind: 'finish',
          status: { exitCode: undefined, oomKilled: false, error: 'the Job was deleted' },
        },
      ]);
      expect(
        verdicts(run([{ kind: 'watch-failed', what: 'pods', message: 'Forbidden' }]).effects),
      ).toEqual([
        {
          kind: 'finish',
          status: {
            exitCode: undefined,
            oomKilled: false,
            error: 'watching the pods failed: Forbidden',
          },
        },
      ]);
    });

    it('gives one verdict only', () => {
      const { effects } = run([
        seen(pod('p1', { scheduled: 'yes', keeper: waiting('ErrImagePull') })),
        jobSeen({ conditions: [condition('Failed', 'X', 'y')] }),
        { kind: 'job', change: 'DELETED', job: job({}) },
      ]);
      expect(verdicts(effects)).toHaveLength(1);
    });
  });

  describe('one index of an Indexed Job', () => {
    const config = { ...CONFIG, index: 2 };
    it('finishes when its index completes, whatever the others do', () => {
      const { effects } = run(
        [
          seen(pod('p2', { scheduled: 'yes', workload: ended(0), deleting: true })),
          jobSeen({ completedIndexes: '0,2-3', failedIndexes: '1' }),
        ],
        config,
      );
      expect(verdicts(effects)).toEqual([
        { kind: 'finish', status: { exitCode: 0, oomKilled: false } },
      ]);
    });

    it('takes a failed index as its exit, or as retries spent when it has none', () => {
      const failedIndex = job({ failedIndexes: '2' });
      const withExit = run(
        [
          seen(pod('p2', { scheduled: 'yes', workload: ended(4) })),
          { kind: 'job', change: 'MODIFIED', job: failedIndex },
        ],
        config,
      );
      expect(verdicts(withExit.effects)).toEqual([
        { kind: 'finish', status: { exitCode: 4, oomKilled: false } },
      ]);
      const without = run(
        [
          seen(pod('p2', { scheduled: 'yes' })),
          { kind: 'job', change: 'MODIFIED', job: failedIndex },
        ],
        config,
      );
      expect(verdicts(without.effects)).toEqual([
        failure('p2', 'index 2 failed: its retries are spent'),
      ]);
    });

    it('lets the whole Job decide once it failed, e.g. at its deadline', () => {
      const { effects } = run(
        [
          seen(pod('p2', { scheduled: 'yes', workload: ended(137) })),
          jobSeen({
            failedIndexes: '2',
            conditions: [condition('Failed', 'DeadlineExceeded', 'too long')],
          }),
        ],
        config,
      );
      expect(verdicts(effects)).toEqual([
        {
          kind: 'finish',
          status: {
            exitCode: 137,
            oomKilled: false,
            timedOut: true,
            error: 'DeadlineExceeded: too long',
          },
        },
      ]);
    });

    it('ignores the other indexes', () => {
      const { effects } = run([jobSeen({ completedIndexes: '0-1,3', failedIndexes: '4' })], config);
      expect(verdicts(effects)).toEqual([]);
    });
  });

  it('says a note once under its key', () => {
    const note: TrackerEvent = {
      kind: 'note',
      key: 'p1/log:gap',
      message: 'The log of pod p1: gap',
    };
    expect(logs(run([note, note]).effects)).toEqual(['The log of pod p1: gap']);
  });
});
