/**
 * cook-action outside GitHub: the same inputs as flags (`--workflow wf.yml --runtime local`),
 * the same run, outputs printed as KEY=VALUE lines on stderr at the end.
 */
import { parseArgs } from 'node:util';
import { Inputs, type InputName } from './config/names.js';
import { buildSettings } from './config/settings.js';
import { Masker } from './logs/masker.js';
import { outcomeOutputs } from './report/outputs.js';
import { runLogged } from './run.js';

const INPUT_NAMES = Object.values(Inputs) as InputName[];

export const USAGE = `Usage: cook-action [--<input> <value>]...

Runs a Prodigy workflow, or a command, in a Docker container or a local process, as the GitHub
Action does. Every input of action.yml is a flag of the same name, for example:

  cook-action --workflow workflows/fix.yml --memory 4Gi --secrets "ANTHROPIC_API_KEY=$KEY"
  cook-action --command 'make test' --image debian:bookworm-slim --timeout 10m
  cook-action --runtime local --command 'echo hello'

Inputs: ${INPUT_NAMES.join(', ')}
Exit code: 0 when the run succeeded; the workload's exit code (or 1) when not; 2 on bad input.
`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(INPUT_NAMES.map((name) => [name, { type: 'string' as const }])),
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const given = values as Record<string, string | undefined>;
  const masker = new Masker();
  const settings = buildSettings((name) => given[name] ?? '', process.env, {
    onSecret: (value) => masker.add(value),
  });

  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let outcome;
  try {
    outcome = await runLogged(settings, masker, { signal: cancel.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const outputs = outcomeOutputs(outcome);
  for (const [name, value] of Object.entries(outputs)) {
    process.stderr.write(`${name}=${masker.mask(value)}\n`);
  }
  if (outcome.status === 'succeeded') return 0;
  process.stderr.write(`cook-action: the run ${outcome.status}: ${outcome.reason}\n`);
  return outcome.exitCode && outcome.exitCode > 0 && outcome.exitCode < 256 ? outcome.exitCode : 1;
}
