/** scripts/docs-tables.mjs: the README's inputs and outputs tables are action.yml's. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script, without types
import { render } from '../../../scripts/docs-tables.mjs';

const root = path.resolve(import.meta.dirname, '../../..');
const renderTables = render as (readme: string, actionYml: string) => Promise<string>;

describe('the README tables', () => {
  it('the README in the repository matches action.yml', () => {
    const check = spawnSync('node', [path.join(root, 'scripts/docs-tables.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(check.status, check.stderr).toBe(0);
  });

  it('makes tables with a header row, defaults as code, and pipes and newlines kept in their cell', async () => {
    const readme = [
      '# x',
      '',
      '<!-- inputs: made from action.yml by scripts/docs-tables.mjs -->',
      'stale',
      '<!-- end of inputs -->',
      '',
      '<!-- outputs: made from action.yml by scripts/docs-tables.mjs -->',
      '<!-- end of outputs -->',
      '',
    ].join('\n');
    const action = [
      'inputs:',
      '  a:',
      '    description: "one | two\\nthree"',
      "    default: '${{ github.token }}'",
      '  b:',
      '    description: plain',
      "    default: ''",
      'outputs:',
      '  c:',
      '    description: out',
    ].join('\n');
    const out = await renderTables(readme, action);
    expect(out).not.toContain('stale');
    expect(out).toMatch(/\| input +\| default +\| description +\|\n\| -+ \| -+ \| -+ \|/);
    expect(out).toMatch(/\| `a` +\| `\$\{\{ github\.token \}\}` \| one \\\| two three \|/);
    expect(out).toMatch(/\| `b` +\| +\| plain +\|/);
    expect(out).toMatch(/\| output \| description \|\n\| -+ \| -+ \|\n\| `c` +\| out +\|/);
  });

  it('names the markers it needs when they are missing', async () => {
    await expect(renderTables('# no markers\n', 'inputs: {}\n')).rejects.toThrow(
      /no '<!-- inputs: made from action\.yml/,
    );
  });
});
