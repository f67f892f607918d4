/** Unpacking what a pod sent back: links that climb out of their folder are refused. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractChecked } from '../../../src/runtime/kubernetes/unpack.js';
import { tempWorkspace } from '../../support/workspace.js';

/** A tar (GNU tar, as the keeper's image makes them) of a folder the test fills. */
function tarOf(fill: (dir: string) => void): string {
  const dir = tempWorkspace();
  const content = path.join(dir, 'content');
  mkdirSync(content);
  fill(content);
  const file = path.join(dir, 'out.tar');
  execFileSync('tar', ['-c', '-f', file, '-C', content, '.']);
  return file;
}

describe('unpacking a pod’s results', () => {
  it('keeps files and links that stay inside', async () => {
    const file = tarOf((dir) => {
      mkdirSync(path.join(dir, 'docs'));
      writeFileSync(path.join(dir, 'docs', 'a.md'), 'a');
      symlinkSync('docs/a.md', path.join(dir, 'readme'));
      symlinkSync('../docs', path.join(dir, 'docs', 'self'));
    });
    const into = path.join(tempWorkspace(), 'x');
    await extractChecked(file, into, '/workspace');
    expect(readlinkSync(path.join(into, 'readme'))).toBe('docs/a.md');
  });

  it('refuses a -> b/.. when b -> . (each passes a textual check)', async () => {
    const file = tarOf((dir) => {
      symlinkSync('.', path.join(dir, 'b'));
      symlinkSync('b/..', path.join(dir, 'a'));
    });
    const into = path.join(tempWorkspace(), 'x');
    await expect(extractChecked(file, into, '/workspace')).rejects.toThrow(
      '/workspace/a is a link to "b/..", which leads outside /workspace: refused',
    );
  });

  it('refuses a link out, absolute or climbing (tar-fs refuses these itself)', async () => {
    for (const target of ['/etc/passwd', '../../outside']) {
      const file = tarOf((dir) => symlinkSync(target, path.join(dir, 'out')));
      const into = path.join(tempWorkspace(), 'x');
      await expect(extractChecked(file, into, '/workspace')).rejects.toThrow(/out/);
      expect(existsSync(path.join(into, 'out')) && readlinkSync(path.join(into, 'out'))).not.toBe(
        target,
      );
    }
  });
});
