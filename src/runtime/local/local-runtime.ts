/** The local runtime: the same workload as a child process, for machines without Docker. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { RUN_ID_VARIABLE } from '../spec.js';
import type {
  ContainerRuntime,
  ExitStatus,
  OutputChunk,
  RunSpec,
  RunningWorkload,
} from '../types.js';

export function createLocalRuntime(hostEnv: Readonly<Record<string, string>>): ContainerRuntime {
  return new LocalRuntime(hostEnv);
}

class LocalRuntime implements ContainerRuntime {
  readonly kind = 'local' as const;
  private readonly workloads: LocalWorkload[] = [];

  constructor(private readonly hostEnv: Readonly<Record<string, string>>) {}

  describe(spec: RunSpec): string {
    const env = {
      ...spec.env,
      ...Object.fromEntries(Object.keys(spec.secretEnv).map((key) => [key, '***'])),
    };
    return `spawn ${JSON.stringify({ argv: spec.argv, cwd: spec.workdir, env }, null, 2)}`;
  }

  async prepare(): Promise<void> {}

  async start(spec: RunSpec): Promise<RunningWorkload> {
    const [program, ...args] = spec.argv;
    const child = spawn(program!, args, {
      cwd: spec.workdir,
      env: { ...this.hostEnv, ...spec.env, ...spec.secretEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, so stop() reaches everything the command started.
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new Error(`Starting ${program}: ${error.message}`, { cause: error })),
      );
    });
    const workload = new LocalWorkload(child);
    this.workloads.push(workload);
    return workload;
  }

  async cleanup(): Promise<void> {
    for (const workload of this.workloads.splice(0)) workload.kill('SIGKILL');
  }

  /**
   * Processes carry the run's id in their environment (RUN_ID_VARIABLE), as containers carry it in
   * a label: whatever still has it after main was killed is this run's, and is killed here.
   */
  async sweep(runId: string): Promise<string[]> {
    const marker = `${RUN_ID_VARIABLE}=${runId}`;
    const removed: string[] = [];
    let entries: string[];
    try {
      entries = await readdir('/proc');
    } catch {
      return removed; // No /proc (not Linux): nothing can be found this way.
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      let environ: string;
      try {
        environ = await readFile(`/proc/${entry}/environ`, 'latin1');
      } catch {
        continue; // Gone, or not ours to read.
      }
      if (!environ.split('\0').includes(marker)) continue;
      try {
        process.kill(Number(entry), 'SIGKILL');
        removed.push(`process ${entry}`);
      } catch {
        // Exited in the meantime.
      }
    }
    return removed;
  }
}

class LocalWorkload implements RunningWorkload {
  readonly id: string;
  private readonly exited: Promise<ExitStatus>;
  private readonly outputDone: Promise<void>;
  private listener: ((chunk: OutputChunk) => void) | undefined;
  private readonly early: OutputChunk[] = [];

  constructor(private readonly child: ChildProcess) {
    this.id = String(child.pid);
    // Output is captured from the first byte, before anyone asks for it.
    const deliver = (chunk: OutputChunk) =>
      this.listener ? this.listener(chunk) : this.early.push(chunk);
    const ended = (stream: NodeJS.ReadableStream) =>
      new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
      });
    child.stdout!.on('data', (data: Buffer) => deliver({ stream: 'stdout', data }));
    child.stderr!.on('data', (data: Buffer) => deliver({ stream: 'stderr', data }));
    this.outputDone = Promise.all([ended(child.stdout!), ended(child.stderr!)]).then(() => {});
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const signalNumber = signal ? osConstants.signals[signal] : undefined;
        resolve({
          // A shell reports a signalled child as 128 + the signal; do the same.
          exitCode: code ?? (signalNumber === undefined ? undefined : 128 + signalNumber),
          oomKilled: false,
        });
      });
    });
  }

  async output(onChunk: (chunk: OutputChunk) => void): Promise<void> {
    for (const chunk of this.early.splice(0)) onChunk(chunk);
    this.listener = onChunk;
    await this.outputDone;
  }

  wait(): Promise<ExitStatus> {
    return this.exited;
  }

  async stop(graceSeconds: number): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceSeconds * 1000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // Best effort: the group is already gone.
    }
  }
}
