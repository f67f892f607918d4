// Every benchmark in turn, each against its baseline in the same run; their tables are printed,
// kept in bench/results.md with the machine they ran on, and put into the README's performance
// section (between its two markers), so the figures there are the last run's.
//
//   npm run bench                       (builds dist/, brings up the test ground)
//   BENCH_ONLY=startup,overhead npm run bench
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groundEnv } from './common.mjs';

const root = path.resolve(import.meta.dirname, '..');
const all = ['startup', 'overhead', 'kubernetes', 'scale', 'mapreduce'];
const only = process.env.BENCH_ONLY?.split(',') ?? all;
const env = { ...process.env, ...groundEnv(root) };

const resultsFile = path.join(root, 'bench', 'results.md');
/** Each benchmark's last section, from the results of earlier runs: a part run alone keeps the rest. */
const sections = new Map();
const heading = (name) => `#### \`node bench/${name}.mjs\``;
try {
  const earlier = readFileSync(resultsFile, 'utf8');
  for (const name of all) {
    const from = earlier.indexOf(heading(name));
    if (from < 0) continue;
    const next = earlier.indexOf('\n#### ', from + 1);
    sections.set(name, earlier.slice(from, next < 0 ? undefined : next).trim());
  }
} catch {
  // No earlier results.
}
for (const name of all.filter((n) => only.includes(n))) {
  process.stderr.write(`bench: ${name}\n`);
  const out = execFileSync(process.execPath, [path.join(root, 'bench', `${name}.mjs`)], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  process.stdout.write(out);
  const when = new Date().toISOString().slice(0, 10);
  sections.set(
    name,
    `${heading(name)} (${when})\n\n${out.trim().replace(/^#+ (.*)$/gm, '**$1**')}`,
  );
}

const cpus = os.cpus();
const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.versions.node}`;
const body = [
  `Measured on ${machine}, by \`npm run bench\`.`,
  '',
  ...all.filter((n) => sections.has(n)).flatMap((n) => [sections.get(n), '']),
].join('\n');
writeFileSync(resultsFile, `${body.trim()}\n`);

const readme = path.join(root, 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const from = text.indexOf(start);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
writeFileSync(
  readme,
  `${text.slice(0, from + start.length)}\n\n${body.trim()}\n\n${text.slice(to)}`,
);
// The tables as the repository formats them, so the check of its formatting stays green.
execFileSync(
  path.join(root, 'node_modules', '.bin', 'prettier'),
  ['--write', readme, resultsFile],
  {
    stdio: 'ignore',
  },
);
