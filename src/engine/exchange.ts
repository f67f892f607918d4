/**
 * The folder a derived workflow trades files with the action in: made fresh for each run, open
 * to whatever user the workload runs as, and mounted into the workload (sent into the pod and
 * brought back on Kubernetes).
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { exchangeInWorkload } from '../runtime/spec.js';

export class Exchange {
  private constructor(
    /** The folder on the host. */
    readonly host: string,
    /** The same folder as the workload sees it. */
    readonly seen: string,
    private readonly settings: Settings,
  ) {}

  /** `<runDir>/<name>-exchange`, emptied. */
  static async fresh(settings: Settings, name: string): Promise<Exchange> {
    const host = path.join(settings.runDir, `${name}-exchange`);
    await rm(host, { recursive: true, force: true });
    await mkdir(host, { recursive: true });
    // The workload may run as another user than the action.
    await chmod(host, 0o777);
    return new Exchange(host, exchangeInWorkload(settings, host), settings);
  }

  /** A file of the folder, on the host. */
  path(file: string): string {
    return path.join(this.host, file);
  }

  /** A file of the folder, as the workload sees it. */
  inWorkload(file: string): string {
    return path.posix.join(this.seen, file);
  }

  async write(file: string, content: string): Promise<void> {
    await writeFile(this.path(file), content);
  }

  /** The settings that run the derived workflow `file` of this folder instead of the user's. */
  running(file: string): Settings {
    const workload = this.settings.workload;
    if (workload.kind !== 'prodigy') throw new Error('a derived workflow replaces a Prodigy one');
    return { ...this.settings, workload: { ...workload, derived: { exchange: this.host, file } } };
  }
}
