/** Shards run at once on a cluster, as one Indexed Job. */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { ContainerRuntime, RunSpec, RunningWorkload } from '../types.js';
import type { JobOptions } from './manifest.js';
import { KubernetesRuntime, type KubernetesRuntimeOptions } from './kubernetes-runtime.js';

export type IndexedOptions = NonNullable<JobOptions['indexed']>;

/**
 * Shards run at once on a cluster: one Indexed Job, each index a shard. Each shard gets a
 * runtime of its own from runtimeFor(index), used as any runtime is; the Job is created when
 * every shard has asked to start (their specs differ only in their mounts), and deleted when the
 * last one cleans up. A shard that cleans up before it started stops the others from waiting.
 */
export class IndexedJob {
  readonly #runtime: KubernetesRuntime;
  readonly #indexed: IndexedOptions;
  readonly #specs: (RunSpec | undefined)[];
  readonly #logs: ((message: string) => void)[];
  readonly #waiting: { resolve: (w: RunningWorkload) => void; reject: (e: Error) => void }[] = [];
  #connected: Promise<string> | undefined;
  #launched = false;
  #abandoned: Error | undefined;
  #left = 0;

  constructor(options: KubernetesRuntimeOptions, indexed: IndexedOptions) {
    this.#runtime = new KubernetesRuntime(options);
    this.#indexed = indexed;
    this.#specs = Array.from({ length: indexed.count }, () => undefined);
    this.#logs = Array.from({ length: indexed.count }, () => () => {});
  }

  runtimeFor(index: number): ContainerRuntime {
    return {
      kind: 'kubernetes',
      describe: (spec) => this.#runtime.describe(spec),
      prepare: async (spec, log) => {
        this.#logs[index] = log;
        this.#connected ??= this.#runtime.connect();
        log(await this.#connected);
      },
      start: (spec) => this.#arrive(index, spec),
      cleanup: () => this.#leave(index),
      sweep: (runId) => this.#runtime.sweep(runId),
    };
  }

  #arrive(index: number, spec: RunSpec): Promise<RunningWorkload> {
    if (this.#abandoned) return Promise.reject(this.#abandoned);
    this.#specs[index] = spec;
    const arrived = new Promise<RunningWorkload>((resolve, reject) => {
      this.#waiting[index] = { resolve, reject };
    });
    if (this.#specs.every((s) => s !== undefined)) void this.#launch();
    return arrived;
  }

  async #launch(): Promise<void> {
    this.#launched = true;
    try {
      sharedTemplate(this.#specs as RunSpec[]);
      const workloads = await this.#runtime.startIndexed(
        this.#specs as RunSpec[],
        this.#indexed,
        this.#logs,
      );
      workloads.forEach((workload, index) => this.#waiting[index]!.resolve(workload));
    } catch (error) {
      for (const waiting of this.#waiting) waiting?.reject(error as Error);
    }
  }

  async #leave(index: number): Promise<void> {
    if (!this.#launched && this.#specs[index] === undefined && !this.#abandoned) {
      this.#abandoned = new Error(
        `shard ${index + 1} of ${this.#indexed.count} ended before its pod could start, so the shards' Indexed Job was not created`,
      );
      for (const waiting of this.#waiting) waiting?.reject(this.#abandoned);
    }
    this.#left++;
    if (this.#left === this.#indexed.count) await this.#runtime.cleanup();
  }
}

/**
 * What the one pod template of an Indexed Job carries, which must be alike for every shard: a
 * shard whose pod would differ in more than its mounts' content cannot run as an index.
 */
function templateOf(spec: RunSpec): Record<string, unknown> {
  return {
    argv: spec.argv,
    workdir: spec.workdir,
    env: spec.env,
    secretEnv: spec.secretEnv,
    container: spec.container,
    timeoutMs: spec.timeoutMs,
    schedulingTimeoutMs: spec.schedulingTimeoutMs,
    mounts: spec.mounts.map(({ target, readOnly }) => ({ target, readOnly })),
    workflow: spec.workflowFile && {
      argIndex: spec.workflowFile.argIndex,
      content: readFileSync(spec.workflowFile.host, 'utf8'),
    },
  };
}

/** Throws, naming the field, when the shards' specs would not share one pod template. */
export function sharedTemplate(specs: readonly RunSpec[]): void {
  const first = templateOf(specs[0]!);
  for (const [index, spec] of specs.entries()) {
    const template = templateOf(spec);
    const differs = Object.keys(first).filter(
      (key) => !isDeepStrictEqual(first[key], template[key]),
    );
    if (differs.length > 0) {
      throw new Error(
        `shard ${index + 1}'s pod would differ from shard 1's in ${differs.join(', ')}, so the shards cannot share one Indexed Job`,
      );
    }
  }
}
