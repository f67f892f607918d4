/**
 * The runner's file commands (src/Runner.Worker/FileCommandManager.cs): before each step, empty
 * files under RUNNER_TEMP/_runner_file_commands; after it (also when it failed or was cancelled),
 * each is read in the runner's order. A malformed file fails the step, keeping the pairs before
 * the bad line.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setKey, type StepContext } from './step-context.js';

/** CreateStepSummaryCommand.AttachmentSizeLimit. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

interface FileCommand {
  context: string;
  prefix: string;
  env: string;
}

// In the runner's registration order (ExtensionManager), which is also the processing order.
const FILE_COMMANDS: readonly FileCommand[] = [
  { context: 'path', prefix: 'add_path_', env: 'GITHUB_PATH' },
  { context: 'env', prefix: 'set_env_', env: 'GITHUB_ENV' },
  { context: 'step_summary', prefix: 'step_summary_', env: 'GITHUB_STEP_SUMMARY' },
  { context: 'state', prefix: 'save_state_', env: 'GITHUB_STATE' },
  { context: 'output', prefix: 'set_output_', env: 'GITHUB_OUTPUT' },
];

/** Env name (GITHUB_OUTPUT, ...) to the fresh file's path. */
export type FileCommandPaths = Record<string, string>;

export function initializeFileCommands(runnerTemp: string): FileCommandPaths {
  const dir = path.join(runnerTemp, '_runner_file_commands');
  mkdirSync(dir, { recursive: true });
  const suffix = randomUUID();
  const paths: FileCommandPaths = {};
  for (const command of FILE_COMMANDS) {
    const file = path.join(dir, command.prefix + suffix);
    writeFileSync(file, '');
    paths[command.env] = file;
  }
  return paths;
}

/** File.ReadAllText: UTF-8, a leading byte order mark dropped; a deleted file reads as empty. */
function readText(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** StreamReader.ReadLine / File.ReadAllLines: lines end at \n, \r\n or \r. */
export function readLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * EnvFileKeyValuePairs: `NAME=value` or `NAME<<DELIMITER` ... `DELIMITER` (only \n ends a line
 * on Linux, so a \r stays in the value). Throws on the first malformed entry, after yielding the
 * pairs before it.
 */
export function* envFilePairs(text: string): Generator<[string, string]> {
  let index = 0;
  const readLine = (): { line: string; newline: boolean } | undefined => {
    if (index >= text.length) return undefined;
    const start = index;
    const lf = text.indexOf('\n', index);
    if (lf < 0) {
      index = text.length;
      return { line: text.slice(start), newline: false };
    }
    index = lf + 1;
    return { line: text.slice(start, lf), newline: true };
  };

  for (let next = readLine(); next !== undefined; next = readLine()) {
    const line = next.line;
    if (line === '') continue;
    const equals = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      yield [line.slice(0, equals), line.slice(equals + 1)];
    } else if (heredoc >= 0 && (equals < 0 || heredoc < equals)) {
      const key = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (key === '' || delimiter === '') {
        throw new Error(
          `Invalid format '${line}'. Name must not be empty and delimiter must not be empty`,
        );
      }
      const start = index;
      let end = index;
      let value = readLine();
      while (value?.line !== delimiter) {
        if (value === undefined)
          throw new Error(`Invalid value. Matching delimiter not found '${delimiter}'`);
        if (!value.newline) throw new Error('Invalid value. EOF marker missing new line.');
        end = index - 1;
        value = readLine();
      }
      yield [key, end > start ? text.slice(start, end) : ''];
    } else {
      throw new Error(`Invalid format '${line}'`);
    }
  }
}

function processPairs(file: string, apply: (key: string, value: string) => void): void {
  for (const [key, value] of envFilePairs(readText(file))) apply(key, value);
}

/** Returns the step summary as GitHub receives it: masked line by line; '' when empty or dropped. */
export function processFileCommands(ctx: StepContext, paths: FileCommandPaths): string {
  let summary = '';
  for (const command of FILE_COMMANDS) {
    const file = paths[command.env]!;
    try {
      switch (command.context) {
        case 'path':
          for (const line of readLines(readText(file))) {
            if (line === '') continue;
            const at = ctx.path.indexOf(line);
            if (at >= 0) ctx.path.splice(at, 1);
            ctx.path.push(line);
          }
          break;
        case 'env':
          processPairs(file, (key, value) => {
            if (key.toUpperCase() === 'NODE_OPTIONS') {
              ctx.error("Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.");
            } else {
              setKey(ctx.env, key, value);
            }
          });
          break;
        case 'step_summary':
          summary = stepSummary(ctx, file);
          break;
        case 'state':
          processPairs(file, (key, value) => setKey(ctx.state, key, value));
          break;
        case 'output':
          processPairs(file, (key, value) => setKey(ctx.outputs, key, value));
          break;
      }
    } catch (error) {
      ctx.error(`Unable to process file command '${command.context}' successfully.`);
      ctx.error(error instanceof Error ? error.message : String(error));
      ctx.commandFailed = true;
    }
  }
  return summary;
}

function stepSummary(ctx: StepContext, file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return '';
  }
  if (size === 0) return '';
  if (size > STEP_SUMMARY_LIMIT) {
    // Reported, but the step does not fail.
    ctx.error(
      `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of ${STEP_SUMMARY_LIMIT / 1024}k, ` +
        `got ${Math.floor(size / 1024)}k. For more information see: ` +
        'https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-markdown-summary',
    );
    return '';
  }
  return readLines(readText(file))
    .map((line) => `${ctx.masker.mask(line)}\n`)
    .join('');
}
