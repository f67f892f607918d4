/** Files the workload may have written: what a hostile one plants instead of a results file. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readUntrustedText,
  readUntrustedTextIfAny,
  UntrustedFileError,
} from '../../../src/results/untrusted.js';
import { tempWorkspace } from '../../support/workspace.js';

const options = { what: 'the results', maxBytes: 1024 };

describe('reading a file the workload wrote', () => {
  it('reads a regular file', async () => {
    const dir = tempWorkspace({ 'out/results.json': '[1]' });
    const file = path.join(dir, 'out', 'results.json');
    expect(await readUntrustedText(file, { ...options, root: dir })).toBe('[1]');
  });

  it.each([
    ['a link to the runner’s environment', '/proc/self/environ'],
    ['a link to /dev/zero', '/dev/zero'],
    ['a link to a file of the runner', '/etc/hostname'],
  ])('refuses %s, naming it', async (_, target) => {
    const dir = tempWorkspace();
    const file = path.join(dir, 'results.json');
    symlinkSync(target, file);
    await expect(readUntrustedText(file, options)).rejects.toThrow(UntrustedFileError);
    await expect(readUntrustedText(file, options)).rejects.toThrow(
      /the results is not read: .*results\.json is a symbolic link/,
    );
  });

  it('refuses a FIFO at once, without waiting for a writer', async () => {
    const dir = tempWorkspace();
    const file = path.join(dir, 'results.json');
    execFileSync('mkfifo', [file]);
    await expect(readUntrustedText(file, options)).rejects.toThrow(/is a FIFO, not a regular file/);
  });

  it('refuses a folder reached through a link, and an a -> b/.. chain', async () => {
    const dir = tempWorkspace({ 'b/c/results.json': '[]' });
    symlinkSync('/etc', path.join(dir, 'linked'));
    await expect(
      readUntrustedText(path.join(dir, 'linked', 'hostname'), { ...options, root: dir }),
    ).rejects.toThrow(/linked is a symbolic link, not a folder/);
    symlinkSync('b/c/..', path.join(dir, 'a'));
    await expect(
      readUntrustedText(path.join(dir, 'a', 'c', 'results.json'), { ...options, root: dir }),
    ).rejects.toThrow(/a is a symbolic link, not a folder/);
  });

  it('refuses a file over the limit, naming the limit', async () => {
    const dir = tempWorkspace({ 'big.json': 'x'.repeat(1025) });
    await expect(readUntrustedText(path.join(dir, 'big.json'), options)).rejects.toThrow(
      /over the limit of 1024 bytes/,
    );
  });

  it('says when there is no file at all', async () => {
    const dir = tempWorkspace();
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'x'), '');
    expect(await readUntrustedTextIfAny(path.join(dir, 'none.json'), options)).toBeUndefined();
    expect(await readUntrustedTextIfAny(path.join(dir, 'sub', 'x'), options)).toBe('');
  });
});
