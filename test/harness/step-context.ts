/**
 * What the runner's ExecutionContext keeps for one step: the step log (every line masked when
 * written), annotations, outputs, state, and the result of command processing.
 */
import type { SecretMasker } from './secret-masker.js';

export type AnnotationLevel = 'error' | 'warning' | 'notice';

export interface Annotation {
  level: AnnotationLevel;
  message: string;
}

export interface RecordedCommand {
  /** Lower-cased, as the runner matches it. */
  name: string;
  properties: Record<string, string>;
  data: string;
}

// ExecutionContext: issue messages are cut at 4096 characters, and a step's record keeps at most
// 10 issues of each type (all of them still reach the log).
const MAX_ISSUE_MESSAGE_LENGTH = 4096;
const MAX_ISSUES_PER_TYPE = 10;

const TAGS: Record<AnnotationLevel, string> = {
  error: '##[error]',
  warning: '##[warning]',
  notice: '##[notice]',
};

/** Sets a key on a plain object, `__proto__` included. */
export function setKey(target: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export class StepContext {
  /** Regular output lines as the log viewer shows them: masked, commands removed. */
  readonly lines: string[] = [];
  /** Everything the runner writes to the step log, with its `##[error]`, `##[group]`... tags. */
  readonly log: string[] = [];
  readonly annotations: Annotation[] = [];
  readonly commands: RecordedCommand[] = [];
  readonly outputs: Record<string, string> = {};
  readonly state: Record<string, string> = {};
  /** From $GITHUB_ENV (and `::set-env` when unsecure commands are allowed): env of later steps. */
  readonly env: Record<string, string> = {};
  /** From $GITHUB_PATH: prepended to PATH for later steps, the last one first. */
  readonly path: string[] = [];
  /** Secrets this step registered with the job's masker. */
  readonly masks: string[] = [];
  /** The runner's CommandResult = Failed: a command or file command could not be processed. */
  commandFailed = false;
  /** `::echo::on`; starts on only with step debug. */
  echo: boolean;
  private readonly issueCounts: Record<AnnotationLevel, number> = {
    error: 0,
    warning: 0,
    notice: 0,
  };

  constructor(
    readonly masker: SecretMasker,
    readonly debugEnabled: boolean,
    private readonly onDisplayed: (line: string) => void = () => {},
  ) {
    this.echo = debugEnabled;
  }

  addSecret(value: string): void {
    this.masker.add(value);
    if (value !== '' && !this.masks.includes(value)) this.masks.push(value);
  }

  /** context.Output: a line of the log, masked. */
  output(line: string): void {
    this.log.push(this.masker.mask(line));
  }

  /** A line of the process's own output that was not a command. */
  display(line: string): void {
    const shown = this.masker.mask(line);
    this.log.push(shown);
    this.lines.push(shown);
    this.onDisplayed(shown);
  }

  issue(level: AnnotationLevel, message: string): void {
    let masked = this.masker.mask(message);
    if (masked.length > MAX_ISSUE_MESSAGE_LENGTH)
      masked = masked.slice(0, MAX_ISSUE_MESSAGE_LENGTH);
    if (this.issueCounts[level] < MAX_ISSUES_PER_TYPE) {
      this.issueCounts[level]++;
      this.annotations.push({ level, message: masked });
    }
    if (masked !== '') this.log.push(this.masker.mask(`${TAGS[level]}${masked}`));
  }

  error(message: string): void {
    this.issue('error', message);
  }

  warning(message: string): void {
    this.issue('warning', message);
  }

  /** Written only with step debug (ACTIONS_STEP_DEBUG), one log line per line of the message. */
  debug(message: string): void {
    if (!this.debugEnabled) return;
    for (const line of message.replaceAll('\r\n', '\n').split('\n')) {
      this.log.push(this.masker.mask(`##[debug]${line}`));
    }
  }
}
