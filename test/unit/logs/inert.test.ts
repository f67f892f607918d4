/**
 * What the workload wrote, quoted in the action's own messages, never becomes a workflow
 * command: each attempt is parsed the way the runner parses a line (test/harness).
 */
import { describe, expect, it } from 'vitest';
import { inert } from '../../../src/logs/inert.js';
import { escapeHtml, escapeMarkdown } from '../../../src/report/summary-blocks.js';
import { parseCommand, parseLegacyCommand } from '../../harness/workflow-command.js';

const registered = () => true;
/** Lines as the runner's reader splits them: at \n, \r\n, and a lone \r. */
const runnerLines = (text: string) => text.split(/\r\n|\r|\n/);

const attempts = [
  '::set-output name=status::succeeded',
  '  ::add-mask::x',
  'file\n::set-output name=status::succeeded',
  'file\r::set-output name=status::succeeded',
  'x ##[set-output name=status;]succeeded',
  '##[add-path]/tmp/evil',
  '\t::stop-commands::abc',
];

describe('inert', () => {
  it.each(attempts)('leaves no command in %j', (attempt) => {
    const message = `Setup generated ${attempt}-work-items.json`;
    for (const text of [inert(attempt), inert(message)]) {
      for (const line of runnerLines(text)) {
        expect(parseCommand(line, registered)).toBeUndefined();
        expect(parseLegacyCommand(line, registered)).toBeUndefined();
      }
    }
    // Without it, each of them is a command.
    const lines = runnerLines(attempt);
    expect(
      lines.some((l) => parseCommand(l, registered) ?? parseLegacyCommand(l, registered)),
    ).toBe(true);
  });

  it('reads the same to a person', () => {
    expect(inert('Uploaded 3 files').replaceAll('\u2060', '')).toBe('Uploaded 3 files');
    expect(inert('a::b ##[x]').replaceAll('\u2060', '')).toBe('a::b ##[x]');
    expect(inert('one\ntwo')).toBe('one\ntwo');
    expect(inert('one\rtwo')).toBe('one\\rtwo');
  });
});

describe('summary text from the workload', () => {
  // GitHub's mention and reference shapes: @user, @org/team, #12, GH-12, owner/repo#12.
  const mention = /(?<![\p{L}\p{N}_])@[\p{L}\p{N}_-]+/u;
  const reference = /(?:^|[^\p{L}\p{N}_])(?:#\d|GH-\d)|[\p{L}\p{N}_.-]\/[\p{L}\p{N}_.-]+#\d/iu;

  it.each(['ping @octocat', 'ping @octo-org/security', 'fixes #12', 'see GH-7', 'octo/repo#3'])(
    'cannot mention or link in %j',
    (text) => {
      for (const escaped of [escapeHtml(text), escapeMarkdown(text)]) {
        expect(escaped).not.toMatch(mention);
        expect(escaped).not.toMatch(reference);
        expect(escaped.replaceAll('\u2060', '')).toBe(text);
      }
    },
  );

  it('loads no image', () => {
    const escaped = escapeMarkdown('![x](https://example.invalid/t.png) <img src=x>');
    expect(escaped).not.toMatch(/!\[|<img/);
  });
});
