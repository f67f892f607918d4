/**
 * cook-action outside GitHub: the same inputs as flags (`--workflow wf.yml --runtime local`),
 * the same run, outputs printed as KEY=VALUE lines on stderr at the end. `plan` and `reduce` are
 * the sub-actions of the same names.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readResultFiles, readShardRequest } from './config/mapreduce.js';
import { Inputs, Outputs, type InputName, type OutputName } from './config/names.js';
import { buildSettings, type Settings } from './config/settings.js';
import { uploadShardResults } from './mapreduce/artifacts.js';
import { planMatrix } from './mapreduce/matrix.js';
import { makePlan } from './mapreduce/plan.js';
import { runReduce } from './mapreduce/reduce.js';
import { runShard } from './mapreduce/shard.js';
import { inert } from './logs/inert.js';
import { Masker } from './logs/masker.js';
import type { RunOutcome } from './engine/outcome.js';
import { outcomeOutputs } from './report/outputs.js';
import { publishReport, type ReportInput } from './report/publish.js';
import {
  fanOutReport,
  mapReduceReport,
  runReport,
  shardReport,
  summaryTitle,
} from './report-inputs.js';
import { runLogged } from './run.js';
import { fanOutWithFolds } from './step.js';

const INPUT_NAMES = Object.values(Inputs) as InputName[];
const COMMANDS = ['run', 'plan', 'reduce'] as const;
type Command = (typeof COMMANDS)[number];

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
  const command: Command = COMMANDS.includes(args[0] as Command)
    ? (args.shift() as Command)
    : 'run';
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
  const run = (s: Settings) => runLogged(s, masker, { signal: cancel.signal });
  const note = (message: string) =>
    process.stderr.write(`cook-action: ${inert(masker.mask(message))}\n`);
  const print = (outputs: Partial<Record<OutputName, string>>) => {
    for (const [name, value] of Object.entries(outputs)) {
      process.stderr.write(`${name}=${masker.mask(value)}\n`);
    }
  };

  // The same reports as in GitHub, kept on disk: the artifact's folder and the summary file.
  const reportOn = async (input: ReportInput): Promise<Partial<Record<OutputName, string>>> => {
    const outputs: Partial<Record<OutputName, string>> = {};
    await publishReport(settings, input, {
      mask: (data) => masker.maskBytes(data),
      note,
      notice: note,
      warning: (message) => note(`warning: ${message}`),
      setOutput: (name, value) => (outputs[name] = value),
      writeSummary: async (markdown) => {
        const file = path.join(settings.runDir, 'summary.md');
        await writeFile(file, masker.mask(markdown));
        note(`The summary is in ${file}.`);
      },
    });
    return outputs;
  };

  try {
    let outcome: RunOutcome;
    if (command === 'plan') {
      const planned = await makePlan(settings, readShardRequest(input), { run, note });
      const { text } = planMatrix(planned, undefined);
      print({
        [Outputs.matrix]: text,
        [Outputs.itemCount]: String(planned.plan.itemCount),
        [Outputs.shardCount]: String(planned.plan.shards.length),
      });
      return 0;
    } else if (command === 'reduce') {
      const reduced = await runReduce(settings, readResultFiles(input), { run, note });
      outcome = reduced.outcome;
      const reported = await reportOn(
        mapReduceReport({
          title: `cook-action reduce: ${reduced.merged.workflow}`,
          outcome,
          merged: reduced.merged,
          resultsFile: reduced.file,
          conflicts: reduced.conflicts,
          ...(reduced.reduceOutcome ? { reduceOutcome: reduced.reduceOutcome } : {}),
        }),
      );
      print({ ...outcomeOutputs(outcome), ...reported, [Outputs.results]: reduced.file });
    } else if (settings.maxParallel !== undefined) {
      const fanned = await fanOutWithFolds(
        { settings, masker, signal: cancel.signal, run, stdout: process.stdout },
        settings.maxParallel,
        false,
        note,
      );
      outcome = fanned.outcome;
      const reported = await reportOn(
        fanOutReport(settings, outcome, fanned.shards, fanned.reduced),
      );
      print({
        ...outcomeOutputs(outcome),
        ...reported,
        ...(fanned.reduced ? { [Outputs.results]: fanned.reduced.file } : {}),
      });
    } else if (settings.shard) {
      const shard = await runShard(settings, settings.shard, { run, note });
      await uploadShardResults(settings, shard, {
        note,
        notice: note,
        mask: (data) => masker.maskBytes(data),
      });
      outcome = shard.outcome;
      const reported = await reportOn(shardReport(settings, shard));
      print({ ...outcomeOutputs(outcome), ...reported, [Outputs.results]: shard.file });
    } else {
      outcome = await run(settings);
      const reported = await reportOn(runReport(outcome, summaryTitle(settings)));
      print({ ...outcomeOutputs(outcome), ...reported });
    }
    if (outcome.status === 'succeeded') return 0;
    process.stderr.write(
      `cook-action: the run ${outcome.status}: ${inert(masker.mask(outcome.reason))}\n`,
    );
    return outcome.exitCode && outcome.exitCode > 0 && outcome.exitCode < 256
      ? outcome.exitCode
      : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
