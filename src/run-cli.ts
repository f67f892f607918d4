/**
 * cook-action outside GitHub: the same inputs as flags (`--workflow wf.yml --runtime local`),
 * the same run, outputs printed as KEY=VALUE lines on stderr at the end. `plan` and `reduce` are
 * the sub-actions of the same names.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { conclusion, type Host } from './app/host.js';
import { type Mode, runMode } from './app/modes.js';
import { Inputs, type InputName, type OutputName } from './config/names.js';
import { buildSettings, type Settings } from './config/settings.js';
import { inert } from './logs/inert.js';
import { Masker } from './logs/masker.js';
import { runLogged } from './run.js';

const INPUT_NAMES = Object.values(Inputs) as InputName[];
const COMMANDS = ['run', 'plan', 'reduce'] as const satisfies readonly Mode[];

export const USAGE = `Usage: cook-action [run|plan|reduce] [--<input> <value>]...

Runs a Prodigy workflow, or a command, in a Docker container, a Kubernetes Job or a local
process, as the GitHub Action does. Every input of action.yml is a flag of the same name:

  cook-action --workflow workflows/fix.yml --memory 4Gi --secrets "ANTHROPIC_API_KEY=$KEY"
  cook-action --command 'make test' --image debian:bookworm-slim --timeout 10m
  cook-action --runtime local --command 'echo hello'

A MapReduce workflow split into shards, as the plan and reduce sub-actions do it:

  cook-action plan --workflow debt.yml --shards 4          # prints matrix=..., item-count=...
  cook-action --workflow debt.yml --shard '<one entry of matrix.include>'
  cook-action reduce --workflow debt.yml --results <shard results folder> --results ...

Inputs: ${INPUT_NAMES.join(', ')}
Exit code: 0 when the run succeeded; the workload's exit code (or 1) when not; 2 on bad input.
`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  const command: Mode = COMMANDS.includes(args[0] as Mode) ? (args.shift() as Mode) : 'run';
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(
        INPUT_NAMES.map((name) => [name, { type: 'string' as const, multiple: true }]),
      ),
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // A repeated flag is a multi-line input (--results a --results b).
  const given = values as Record<string, string[] | undefined>;
  const input = (name: InputName) => given[name]?.join('\n') ?? '';
  const masker = new Masker();
  const settings = buildSettings(input, process.env, { onSecret: (value) => masker.add(value) });

  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Outputs are printed together at the end, as KEY=VALUE lines; a later value replaces one.
  const outputs = new Map<OutputName, string>();
  try {
    const host = terminalHost(settings, masker, cancel.signal, outputs);
    const outcome = await runMode(command, host, input);
    for (const [name, value] of outputs) process.stderr.write(`${name}=${masker.mask(value)}\n`);
    if (!outcome || outcome.status === 'succeeded') return 0;
    return outcome.exitCode && outcome.exitCode > 0 && outcome.exitCode < 256
      ? outcome.exitCode
      : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A terminal's host: messages on stderr, outputs kept in `outputs`, the reports on disk. */
function terminalHost(
  settings: Settings,
  masker: Masker,
  signal: AbortSignal,
  outputs: Map<OutputName, string>,
): Host {
  const note = (message: string) =>
    process.stderr.write(`cook-action: ${inert(masker.mask(message))}\n`);
  return {
    settings,
    masker,
    signal,
    stdout: process.stdout,
    foldShards: false,
    run: (s, onStarted) => runLogged(s, masker, { signal, ...(onStarted ? { onStarted } : {}) }),
    note,
    notice: note,
    warning: (message) => note(`warning: ${message}`),
    setOutput: (name, value) => outputs.set(name, value),
    // The same reports as in GitHub, kept on disk: the summary file, the artifact's folder.
    writeSummary: async (markdown) => {
      const file = path.join(settings.runDir, 'summary.md');
      await writeFile(file, masker.mask(markdown));
      note(`The summary is in ${file}.`);
    },
    conclude: (ended, what) => {
      if (ended.status !== 'succeeded') note(conclusion(ended, what));
    },
  };
}
