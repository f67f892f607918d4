import { randomBytes } from 'node:crypto';

/**
 * Names the runner treats as workflow commands. A token equal to one of them would let ordinary
 * output such as `::warning::` resume command processing (the runner compares without case).
 */
const COMMAND_NAMES = new Set([
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'internal-set-repo-path',
  'notice',
  'pause-logging',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning',
]);

/**
 * Guards relayed output so that the program cannot issue workflow commands (ARCHITECTURE.md,
 * rule 3). Between `start` and `end` the runner ignores every `::command::` line, and only a line
 * naming the token resumes processing; the program cannot guess a random token.
 */
export class CommandGuard {
  readonly token: string;
  /** "::stop-commands::<token>": written before relayed output. */
  readonly start: string;
  /** "::<token>::": written after it, before the action's own output. */
  readonly end: string;

  /** @param token the resume token; by default 32 random hex characters. */
  constructor(token: string = randomBytes(16).toString('hex')) {
    // The runner parses the token as a command name: no spaces, colons or line breaks.
    if (!/^[A-Za-z0-9_.-]+$/.test(token) || COMMAND_NAMES.has(token.toLowerCase())) {
      throw new Error(
        `Invalid stop-commands token ${JSON.stringify(token)}: expected letters, digits, '_', '.' or '-', and not a workflow command name`,
      );
    }
    this.token = token;
    this.start = `::stop-commands::${token}`;
    this.end = `::${token}::`;
  }
}
