/**
 * Runs a JavaScript action's committed bundle the way the GitHub Actions runner does, for
 * end-to-end tests: `node <actionDir>/<runs.main>` (then `runs.post`) with the runner's env, file
 * commands and workflow-command processing, secret masking and cancellation sequence.
 * Facts are from actions/runner's source (ActionRunner, Handlers/NodeScriptActionHandler,
 * Handlers/OutputManager, ActionCommandManager, FileCommandManager, ProcessInvoker, SecretMasker).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readActionManifest, type ActionManifest } from './action-manifest.js';
import { ActionCommandManager, StepCrash } from './command-manager.js';
import { initializeFileCommands, processFileCommands } from './file-commands.js';
import { SecretMasker } from './secret-masker.js';
import { StepContext, type Annotation, type RecordedCommand } from './step-context.js';
import { startStepProcess, type CancellationRecord, type StepProcess } from './step-process.js';

export type { Annotation, RecordedCommand } from './step-context.js';
export type { CancellationRecord } from './step-process.js';
export { SIGINT_TIMEOUT_MS, SIGTERM_TIMEOUT_MS, STREAMS_AFTER_EXIT_MS } from './step-process.js';
export { escapeData, escapeProperty } from './workflow-command.js';

export interface RunActionOptions {
  /** Folder holding action.yml; input defaults and runs.main/post/post-if are read from it. */
  actionDir: string;
  /** Given inputs; missing ones get action.yml defaults. Env name INPUT_<NAME, spaces to _>. */
  inputs?: Record<string, string>;
  /** GITHUB_WORKSPACE and the working directory. */
  workspace: string;
  /**
   * The step's env (e.g. DOCKER_HOST). The harness starts from PATH and HOME only; these override
   * the harness's defaults for the job's identity (GITHUB_RUN_ID, GITHUB_JOB, ...), but not what
   * the runner owns (INPUT_*, GITHUB_WORKSPACE, RUNNER_TEMP, file-command paths, GITHUB_ACTIONS).
   */
  env?: Record<string, string>;
  /** Cancel the job this long after main starts (SIGINT, then SIGTERM, then SIGKILL). */
  cancelAfterMs?: number;
  /** Or cancel when a displayed line of main matches. */
  cancelWhen?: (line: string) => boolean;
  /** SIGKILL main at once when a displayed line matches: no handler runs, only post can clean up. */
  killWhen?: (line: string) => boolean;
  /** Step timeout for each step (timeout-minutes): the same sequence, and the step fails. */
  timeoutMs?: number;
  /** Run runs.post after main, subject to runs.post-if (default always()). Default true. */
  runPost?: boolean;
  /** Step debug (ACTIONS_STEP_DEBUG): `##[debug]` lines and echoed commands reach `log`; RUNNER_DEBUG=1. */
  debug?: boolean;
  /** The node binary; default process.execPath (Node 24 under vitest). */
  node?: string;
  /** The event payload the runner writes to GITHUB_EVENT_PATH; default {}. */
  event?: Record<string, unknown>;
  /** What `${{ github.token }}` stands for in input defaults (the job's token); default ''. */
  githubToken?: string;
}

export type StepConclusion = 'success' | 'failure' | 'cancelled';

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** What the log viewer shows of the process's output: masked, command lines removed, in arrival order. */
  lines: string[];
  /** The whole step log as the runner writes it: `lines` plus `##[error]`, `##[group]`, echoed commands. */
  log: string[];
  rawStdout: string;
  rawStderr: string;
  /** Workflow commands the runner honoured (names lower-cased). */
  commands: RecordedCommand[];
  /** From $GITHUB_OUTPUT and ::set-output. */
  outputs: Record<string, string>;
  /** From $GITHUB_STATE and ::save-state. */
  state: Record<string, string>;
  /** From $GITHUB_ENV: env of later steps. */
  env: Record<string, string>;
  /** From $GITHUB_PATH: prepended to PATH for later steps. */
  path: string[];
  /** The step summary as uploaded (masked line by line); '' when empty or dropped for size. */
  summary: string;
  /** Secrets registered during this step (masking itself lasts for the whole job). */
  masks: string[];
  /** The step's own failure: exit code not 0 (or killed), a command or file command failed, or timed out. */
  failed: boolean;
  /** How the runner concludes the step: a cancelled job's step is 'cancelled' whatever its exit code. */
  conclusion: StepConclusion;
  annotations: Annotation[];
  durationMs: number;
  /** A descendant kept stdout/stderr open after node exited; the runner moved on after 5 s. */
  outputHeldOpen: boolean;
  /** Present when the cancellation sequence ran: when it was requested and which signals went out. */
  cancellation?: CancellationRecord;
}

export interface ActionRun {
  main: StepResult;
  post?: StepResult;
  runnerTemp: string;
}

/** Values of the `github` and `runner` contexts a hosted runner would give; `env` may override them. */
function identityDefaults(): Record<string, string> {
  return {
    GITHUB_ACTION: '__self',
    GITHUB_ACTOR: 'octocat',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
    GITHUB_JOB: 'test',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_RETENTION_DAYS: '90',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_ID: '1000000001',
    GITHUB_RUN_NUMBER: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: '0'.repeat(40),
    GITHUB_WORKFLOW: 'test',
    RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_OS: 'Linux',
  };
}

/** Given inputs, then action.yml defaults for the rest (ActionRunner.RunAsync). */
function resolveInputs(
  manifest: ActionManifest,
  given: Record<string, string>,
  ctx: StepContext,
  githubToken: string,
) {
  const inputs = new Map<string, { name: string; value: string }>();
  for (const [name, value] of Object.entries(given))
    inputs.set(name.toLowerCase(), { name, value });
  for (const name of Object.keys(given)) {
    const declared = manifest.inputs.find((i) => i.name.toLowerCase() === name.toLowerCase());
    if (declared?.deprecationMessage !== undefined) {
      ctx.warning(
        `Input '${name}' has been deprecated with message: ${declared.deprecationMessage}`,
      );
    }
  }
  for (const input of manifest.inputs) {
    if (inputs.has(input.name.toLowerCase())) continue;
    // The one expression the action's defaults use: the job's token, as the runner fills it in.
    const value = (input.default ?? '').replace(/\$\{\{\s*github\.token\s*\}\}/g, githubToken);
    if (value.includes('${{')) {
      throw new Error(
        `Input '${input.name}' defaults to the expression ${JSON.stringify(value)}, which the harness does not ` +
          'evaluate: pass the input explicitly',
      );
    }
    inputs.set(input.name.toLowerCase(), { name: input.name, value });
  }
  const unexpected = Object.keys(given).filter(
    (name) => !manifest.inputs.some((i) => i.name.toLowerCase() === name.toLowerCase()),
  );
  if (unexpected.length > 0) {
    ctx.warning(
      `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${manifest.inputs.map((i) => i.name).join("', '")}']`,
    );
  }
  return [...inputs.values()];
}

interface Job {
  readonly opts: RunActionOptions;
  readonly manifest: ActionManifest;
  readonly runnerTemp: string;
  readonly eventPath: string;
  readonly masker: SecretMasker;
  /** $GITHUB_ENV and $GITHUB_PATH of earlier steps. */
  readonly env: Record<string, string>;
  readonly path: string[];
}

function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

async function runStep(
  job: Job,
  stage: 'main' | 'post',
  stateFromMain: Record<string, string>,
): Promise<StepResult> {
  const { opts, manifest, runnerTemp } = job;
  const script = path.join(opts.actionDir, stage === 'main' ? manifest.main : manifest.post!);
  // The line handler needs the process it is attached to, to cancel it.
  const stepRef: { current?: StepProcess } = {};
  const ctx = new StepContext(job.masker, opts.debug ?? false, (line) => {
    if (stage === 'main' && opts.cancelWhen?.(line)) stepRef.current?.cancel('cancel');
    if (stage === 'main' && opts.killWhen?.(line)) stepRef.current?.kill();
  });

  const files = initializeFileCommands(runnerTemp);
  const inputs = resolveInputs(manifest, opts.inputs ?? {}, ctx, opts.githubToken ?? '');
  const stepEnv = { ...job.env, ...opts.env };

  const env: Record<string, string> = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  Object.assign(env, identityDefaults(), stepEnv);
  for (const [key, value] of Object.entries(stateFromMain)) env[`STATE_${key}`] = value;
  for (const { name, value } of inputs)
    env[`INPUT_${name.replaceAll(' ', '_').toUpperCase()}`] = value;
  if (job.path.length > 0) {
    const prepend = [...job.path].reverse().join(path.delimiter);
    env.PATH = env.PATH ? `${prepend}${path.delimiter}${env.PATH}` : prepend;
  }
  Object.assign(env, files, {
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_EVENT_PATH: job.eventPath,
    RUNNER_TEMP: runnerTemp,
    GITHUB_ACTIONS: 'true',
  });
  env.CI ??= 'true';
  if (opts.debug) env.RUNNER_DEBUG = '1';

  const commands = new ActionCommandManager(ctx, {
    workspace: opts.workspace,
    allowUnsecureCommands: isTrue(stepEnv.ACTIONS_ALLOW_UNSECURE_COMMANDS),
    allowUnsecureStopTokens: isTrue(stepEnv.ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS),
  });
  let crashed = false;

  // Handlers/OutputManager.OnDataReceived, for both streams.
  const handleLine = (line: string): void => {
    if (crashed) return;
    if (line !== '' && (line.includes('##[') || line.includes('::'))) {
      try {
        if (commands.tryProcess(line)) return;
      } catch (error) {
        if (!(error instanceof StepCrash)) throw error;
        // The runner's step ends here with the error; it reads no more of this process's output.
        ctx.error(error.message);
        ctx.commandFailed = true;
        crashed = true;
        return;
      }
    }
    ctx.display(
      line
        .replaceAll('##[start-action', '##[\\start-action')
        .replaceAll('##[end-action', '##[\\end-action'),
    );
  };
  // An error here (a throwing cancelWhen, a harness bug) is rethrown once the step is over.
  let lineError: unknown;
  const onLine = (line: string): void => {
    try {
      handleLine(line);
    } catch (error) {
      lineError ??= error;
    }
  };

  const step = startStepProcess({
    file: opts.node ?? process.execPath,
    args: [script],
    cwd: opts.workspace,
    env,
    onLine,
    ...(stage === 'main' && opts.cancelAfterMs !== undefined
      ? { cancelAfterMs: opts.cancelAfterMs }
      : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  stepRef.current = step;
  const outcome = await step.done;
  if (lineError !== undefined) throw lineError;

  const summary = processFileCommands(ctx, files);
  const timedOut = outcome.cancellation?.reason === 'timeout';
  if (timedOut) {
    const minutes = Math.round(opts.timeoutMs! / 600) / 100;
    ctx.error(`The action 'Run ${manifest.name}' has timed out after ${minutes} minutes.`);
  } else if (outcome.cancellation) {
    ctx.error('The operation was canceled.');
  }
  const failed = outcome.exitCode !== 0 || ctx.commandFailed || timedOut;
  const conclusion: StepConclusion =
    outcome.cancellation?.reason === 'cancel' ? 'cancelled' : failed ? 'failure' : 'success';

  Object.assign(job.env, ctx.env);
  for (const entry of ctx.path) {
    const at = job.path.indexOf(entry);
    if (at >= 0) job.path.splice(at, 1);
    job.path.push(entry);
  }

  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    lines: ctx.lines,
    log: ctx.log,
    rawStdout: outcome.rawStdout,
    rawStderr: outcome.rawStderr,
    commands: ctx.commands,
    outputs: ctx.outputs,
    state: ctx.state,
    env: ctx.env,
    path: ctx.path,
    summary,
    masks: ctx.masks,
    failed,
    conclusion,
    annotations: ctx.annotations,
    durationMs: outcome.durationMs,
    outputHeldOpen: outcome.outputHeldOpen,
    ...(outcome.cancellation ? { cancellation: outcome.cancellation } : {}),
  };
}

/** The few post-if conditions a post step uses, judged against main alone. */
function postShouldRun(condition: string, main: StepResult): boolean {
  const expression = condition
    .trim()
    .replace(/^\$\{\{(.*)\}\}$/s, '$1')
    .trim();
  switch (expression) {
    case 'always()':
      return true;
    case 'success()':
      return main.conclusion === 'success';
    case 'failure()':
      return main.conclusion === 'failure';
    case 'cancelled()':
      return main.conclusion === 'cancelled';
    case '!cancelled()':
      return main.conclusion !== 'cancelled';
    default:
      throw new Error(`The harness cannot evaluate post-if: ${condition}`);
  }
}

export async function runAction(opts: RunActionOptions): Promise<ActionRun> {
  const manifest = readActionManifest(opts.actionDir);
  const runnerTemp = mkdtempSync(path.join(os.tmpdir(), 'runner-temp-'));
  const eventPath = path.join(runnerTemp, '_github_workflow', 'event.json');
  mkdirSync(path.dirname(eventPath), { recursive: true });
  writeFileSync(eventPath, `${JSON.stringify(opts.event ?? {})}\n`);
  const job: Job = {
    opts,
    manifest,
    runnerTemp,
    eventPath,
    masker: new SecretMasker(),
    env: {},
    path: [],
  };

  const main = await runStep(job, 'main', {});
  const wantPost = manifest.post !== undefined && (opts.runPost ?? true);
  const post =
    wantPost && postShouldRun(manifest.postIf, main)
      ? await runStep(job, 'post', main.state)
      : undefined;
  return { main, ...(post ? { post } : {}), runnerTemp };
}
