/**
 * The runner's ActionCommandManager and command extensions (src/Runner.Worker/ActionCommandManager.cs),
 * one per step, shared by stdout and stderr: a `::stop-commands::` seen on one stream pauses both.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { netIsNullOrWhiteSpace, netTrim } from './secret-masker.js';
import { setKey, type StepContext } from './step-context.js';
import {
  getProperty,
  parseCommand,
  parseLegacyCommand,
  type WorkflowCommand,
} from './workflow-command.js';

const STOP_COMMANDS = 'stop-commands';

const DEPRECATED_OUTPUT_COMMAND = (name: string) =>
  `The \`${name}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. ` +
  'For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/';
const DISABLED_COMMAND = (name: string) =>
  `The \`${name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command ` +
  'execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. For more information ' +
  'see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/';
export const UNSUPPORTED_STOP_TOKEN =
  "You cannot use a endToken that is an empty string, the string 'pause-logging', or another workflow command. " +
  'For more information see: https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands ' +
  'or opt into insecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.';

/**
 * Thrown where the runner's own code throws outside its per-command try/catch (an invalid
 * stop-commands token): the exception escapes the output handler and ends the step as failed.
 */
export class StepCrash extends Error {}

interface Extension {
  omitEcho: boolean;
  process(ctx: StepContext, command: WorkflowCommand): void;
}

export interface CommandOptions {
  workspace: string;
  /** ACTIONS_ALLOW_UNSECURE_COMMANDS=true in the step's env: `set-env` and `add-path` work. */
  allowUnsecureCommands: boolean;
  /** ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS=true in the step's env. */
  allowUnsecureStopTokens: boolean;
}

function requireName(command: WorkflowCommand, canonical: string): string {
  const name = getProperty(command, 'name');
  if (name === undefined || name === '') {
    throw new Error(`Required field 'name' is missing in ##[${canonical}] command.`);
  }
  return name;
}

function issueExtension(level: 'error' | 'warning' | 'notice'): Extension {
  return { omitEcho: true, process: (ctx, command) => ctx.issue(level, command.data) };
}

function matcherFile(command: WorkflowCommand, options: CommandOptions): string {
  return path.isAbsolute(command.data) ? command.data : path.join(options.workspace, command.data);
}

function extensions(options: CommandOptions): Record<string, Extension> {
  return {
    'set-env': {
      omitEcho: false,
      process(ctx, command) {
        if (!options.allowUnsecureCommands) throw new Error(DISABLED_COMMAND('set-env'));
        const name = getProperty(command, 'name');
        if (name === undefined || name === '')
          throw new Error("Required field 'name' is missing in ##[set-env] command.");
        if (name.toUpperCase() === 'NODE_OPTIONS') {
          ctx.error("Can't update NODE_OPTIONS environment variable using ::set-env:: command.");
          return;
        }
        setKey(ctx.env, name, command.data);
      },
    },
    'set-output': {
      omitEcho: false,
      process(ctx, command) {
        ctx.warning(DEPRECATED_OUTPUT_COMMAND('set-output'));
        setKey(ctx.outputs, requireName(command, 'set-output'), command.data);
      },
    },
    'save-state': {
      omitEcho: false,
      process(ctx, command) {
        ctx.warning(DEPRECATED_OUTPUT_COMMAND('save-state'));
        setKey(ctx.state, requireName(command, 'save-state'), command.data);
      },
    },
    'add-path': {
      omitEcho: false,
      process(ctx, command) {
        if (!options.allowUnsecureCommands) throw new Error(DISABLED_COMMAND('add-path'));
        if (command.data === '') throw new Error("Argument 'path' cannot be null or empty.");
        const at = ctx.path.indexOf(command.data);
        if (at >= 0) ctx.path.splice(at, 1);
        ctx.path.push(command.data);
      },
    },
    'add-mask': {
      omitEcho: true,
      process(ctx, command) {
        if (netIsNullOrWhiteSpace(command.data)) {
          ctx.warning("Can't add secret mask for empty string in ##[add-mask] command.");
          return;
        }
        if (ctx.echo) ctx.output('::add-mask::***');
        ctx.addSecret(command.data);
        // Each line too, trimmed: output reaches the masker one line at a time.
        for (const line of command.data.split(/[\r\n]/)) {
          const trimmed = netTrim(line);
          if (trimmed !== '') ctx.addSecret(trimmed);
        }
      },
    },
    // Problem matchers are loaded (a bad file fails the step as on the runner) but not applied.
    'add-matcher': {
      omitEcho: false,
      process(ctx, command) {
        if (command.data === '') {
          ctx.warning('File path must be specified.');
          return;
        }
        const file = matcherFile(command, options);
        if (!existsSync(file)) throw new Error(`File not found: '${file}'`);
        JSON.parse(readFileSync(file, 'utf8'));
      },
    },
    'remove-matcher': {
      omitEcho: false,
      process(ctx, command) {
        const owner = getProperty(command, 'owner');
        if (owner && command.data) {
          ctx.warning(
            'Either specify an owner name or a file path in ##[remove-matcher] command. Both values cannot be set.',
          );
        } else if (!owner && !command.data) {
          ctx.warning(
            'Either an owner name or a file path must be specified in ##[remove-matcher] command.',
          );
        } else if (!owner) {
          const file = matcherFile(command, options);
          if (!existsSync(file)) throw new Error(`File not found: '${file}'`);
          JSON.parse(readFileSync(file, 'utf8'));
        }
      },
    },
    warning: issueExtension('warning'),
    error: issueExtension('error'),
    notice: issueExtension('notice'),
    debug: { omitEcho: true, process: (ctx, command) => ctx.debug(command.data) },
    group: { omitEcho: false, process: (ctx, command) => ctx.output(`##[group]${command.data}`) },
    endgroup: { omitEcho: false, process: (ctx) => ctx.output('##[endgroup]') },
    echo: {
      omitEcho: false,
      process(ctx, command) {
        if (command.data === '') throw new Error("Argument 'value' cannot be null or empty.");
        const value = netTrim(command.data).toUpperCase();
        if (value === 'ON') ctx.echo = true;
        else if (value === 'OFF') ctx.echo = false;
        else {
          throw new Error(
            `Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: '${command.data}'.`,
          );
        }
      },
    },
  };
}

export class ActionCommandManager {
  private readonly extensions: Record<string, Extension>;
  private readonly registered: Set<string>;
  private stopToken: string | undefined;

  constructor(
    private readonly ctx: StepContext,
    private readonly options: CommandOptions,
  ) {
    this.extensions = extensions(options);
    this.registered = new Set([STOP_COMMANDS, ...Object.keys(this.extensions)]);
  }

  /** True when the line was a command the runner consumed (it is then not shown as output). */
  tryProcess(input: string): boolean {
    const isRegistered = (name: string) => this.registered.has(name.toLowerCase());
    const command = parseCommand(input, isRegistered) ?? parseLegacyCommand(input, isRegistered);
    if (command === undefined) return false;
    const name = command.name.toLowerCase();

    if (this.stopToken !== undefined) {
      if (name !== this.stopToken.toLowerCase()) {
        this.ctx.debug(
          `Process commands has been stopped and waiting for '##[${this.stopToken}]' to resume.`,
        );
        return false;
      }
      this.ctx.output(input);
      this.ctx.debug('Resume processing commands');
      this.registered.delete(name);
      this.stopToken = undefined;
      this.record(name, command);
      return true;
    }

    if (name === STOP_COMMANDS) {
      const token = command.data;
      const invalid =
        token === '' ||
        this.registered.has(token.toLowerCase()) ||
        token.toLowerCase() === 'pause-logging';
      if (invalid && !this.options.allowUnsecureStopTokens)
        throw new StepCrash(UNSUPPORTED_STOP_TOKEN);
      this.stopToken = token;
      this.registered.add(token.toLowerCase());
      if (token.length > 6) this.ctx.addSecret(token);
      this.ctx.output(input);
      this.ctx.debug(
        'Paused processing commands until the token you called ::stopCommands:: with is received',
      );
      this.record(name, command);
      return true;
    }

    const extension = this.extensions[name]!;
    if (this.ctx.echo && !extension.omitEcho) this.ctx.output(input);
    try {
      extension.process(this.ctx, command);
    } catch (error) {
      this.ctx.error(
        `Unable to process command '${extension.omitEcho ? name : input}' successfully.`,
      );
      this.ctx.error(error instanceof Error ? error.message : String(error));
      this.ctx.commandFailed = true;
    }
    this.record(name, command);
    return true;
  }

  private record(name: string, command: WorkflowCommand): void {
    this.ctx.commands.push({ name, properties: command.properties, data: command.data });
  }
}
