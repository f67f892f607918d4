#!/usr/bin/env node
// The README's inputs and outputs tables, made from action.yml, between their markers.
//
//   node scripts/docs-tables.mjs          writes them
//   node scripts/docs-tables.mjs --check  fails when the README's differ (npm test runs this)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '..');
const readme = path.join(root, 'README.md');

function cell(text) {
  return String(text)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

function code(value) {
  const text = String(value);
  if (text === '') return '';
  // A backtick inside needs a longer fence.
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

export function tables(actionYml) {
  const action = parse(actionYml);
  const inputs = Object.entries(action.inputs ?? {}).map(
    ([name, spec]) =>
      `| \`${name}\` | ${code(spec.default ?? '')} | ${cell(spec.description ?? '')} |`,
  );
  const outputs = Object.entries(action.outputs ?? {}).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description ?? '')} |`,
  );
  return {
    inputs: ['| input | default | description |', '| --- | --- | --- |', ...inputs].join('\n'),
    outputs: ['| output | description |', '| --- | --- |', ...outputs].join('\n'),
  };
}

function replaceBetween(text, name, table) {
  const start = `<!-- ${name}: made from action.yml by scripts/docs-tables.mjs -->`;
  const end = `<!-- end of ${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no '${start}' … '${end}' markers`);
  return `${text.slice(0, from + start.length)}\n\n${table}\n\n${text.slice(to)}`;
}

export async function render(readmeText, actionYml) {
  const { inputs, outputs } = tables(actionYml);
  const text = replaceBetween(replaceBetween(readmeText, 'inputs', inputs), 'outputs', outputs);
  const options = (await prettier.resolveConfig(readme)) ?? {};
  return prettier.format(text, { ...options, filepath: readme });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const current = readFileSync(readme, 'utf8');
  const wanted = await render(current, readFileSync(path.join(root, 'action.yml'), 'utf8'));
  if (process.argv.includes('--check')) {
    if (wanted !== current) {
      console.error(
        "docs-tables: README.md's inputs or outputs table differs from action.yml; run 'node scripts/docs-tables.mjs'",
      );
      process.exit(1);
    }
    console.log('docs-tables: README.md matches action.yml');
  } else {
    writeFileSync(readme, wanted);
  }
}
