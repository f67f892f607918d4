/** The harness's pure pieces against facts from actions/runner's source and its L0 tests. */
import { describe, expect, it } from 'vitest';
import { envFilePairs, readLines } from '../harness/file-commands.js';
import { LineReader } from '../harness/line-reader.js';
import { SecretMasker } from '../harness/secret-masker.js';
import {
  escapeData,
  escapeProperty,
  netSplitRemoveEmpty,
  parseCommand,
  parseLegacyCommand,
} from '../harness/workflow-command.js';

const known = (name: string) =>
  ['set-output', 'error', 'add-mask', 'stop-commands'].includes(name.toLowerCase());

describe('workflow command parsing', () => {
  it('parses name, properties and data with the runner unescaping', () => {
    expect(
      parseCommand('::error file=a%3Ab.ts,line=1%2C2,title=x%25y::a%0D%0Ab%253A', known),
    ).toEqual({
      name: 'error',
      properties: { file: 'a:b.ts', line: '1,2', title: 'x%y' },
      data: 'a\r\nb%3A',
    });
  });

  it('needs :: at the start after leading whitespace, a second ::, and a registered name', () => {
    expect(parseCommand(' \t::set-output name=a::b', known)?.data).toBe('b');
    expect(parseCommand('x ::set-output name=a::b', known)).toBeUndefined();
    expect(parseCommand('::set-output name=a', known)).toBeUndefined();
    expect(parseCommand('::unknown::b', known)).toBeUndefined();
    expect(parseCommand('::Set-Output name=a::b', known)?.name).toBe('Set-Output');
  });

  it('keeps property pairs only with a key and a value, case-insensitively, the last value winning', () => {
    expect(parseCommand('::error a=,=b,c=d=e,C=f, g=h::', known)?.properties).toEqual({
      c: 'f',
      ' g': 'h',
    });
  });

  it('finds the legacy ##[ form anywhere in a line', () => {
    expect(parseLegacyCommand('log: ##[error file=x%3By;line=2]bad%5D', known)).toEqual({
      name: 'error',
      properties: { file: 'x;y', line: '2' },
      data: 'bad]',
    });
  });

  it("splits like .NET's Split with RemoveEmptyEntries and a count", () => {
    expect(netSplitRemoveEmpty('a==b', '=', 2)).toEqual(['a', 'b']);
    expect(netSplitRemoveEmpty('a=b=c', '=', 2)).toEqual(['a', 'b=c']);
    expect(netSplitRemoveEmpty('=a=b', '=', 2)).toEqual(['a', 'b']);
    expect(netSplitRemoveEmpty('a=', '=', 2)).toEqual(['a']);
    expect(netSplitRemoveEmpty(',a,,b,', ',')).toEqual(['a', 'b']);
  });

  it('escapes as @actions/core does', () => {
    expect(escapeData('50%\r\n:,')).toBe('50%25%0D%0A:,');
    expect(escapeProperty('50%\r\n:,')).toBe('50%25%0D%0A%3A%2C');
  });
});

describe('SecretMasker', () => {
  it('replaces every occurrence, merging overlapping and touching ones into one ***', () => {
    const masker = new SecretMasker();
    masker.add('abc');
    masker.add('cde');
    expect(masker.mask('xabcdex abcabc y')).toBe('x***x *** y');
  });

  it('masks encoded forms: base64 at each byte offset, JSON and URI escaping', () => {
    const masker = new SecretMasker();
    masker.add('p@ss"word\n');
    const b64 = Buffer.from('user:p@ss"word\n').toString('base64');
    expect(masker.mask(b64)).toBe(`${b64.slice(0, 8)}***`);
    expect(masker.mask('{"v":"p@ss\\"word\\n"}')).toBe('{"v":"***"}');
    expect(masker.mask('q=p%40ss%22word%0A')).toBe('q=***');
  });

  it('masks one-character secrets too (no minimum length)', () => {
    const masker = new SecretMasker();
    masker.add('x');
    expect(masker.mask('axb')).toBe('a***b');
  });
});

describe('env file commands', () => {
  it('reads NAME=value and heredocs, skipping empty lines', () => {
    expect([...envFilePairs('a=1\n\nb<<EOF\nx\n\ny\nEOF\nc=<<d\ne<<=\n=\n=v\n')]).toEqual([
      ['a', '1'],
      ['b', 'x\n\ny'],
      ['c', '<<d'],
      ['e', ''],
      ['', 'v'],
    ]);
  });

  it('keeps \\r in values (only \\n ends a line on Linux) and needs the delimiter', () => {
    expect([...envFilePairs('a=1\r\n')]).toEqual([['a', '1\r']]);
    expect(() => [...envFilePairs('a<<EOF\nx\n')]).toThrow("Matching delimiter not found 'EOF'");
    expect(() => [...envFilePairs('a<<EOF\nx')]).toThrow('EOF marker missing new line');
    expect([...envFilePairs('a<<EOF\nEOF')]).toEqual([['a', '']]);
  });

  it('splits summary and path files like ReadLine', () => {
    expect(readLines('a\r\nb\rc\n')).toEqual(['a', 'b', 'c']);
    expect(readLines('')).toEqual([]);
  });
});

describe('LineReader', () => {
  function read(chunks: (string | Buffer)[]): string[] {
    const lines: string[] = [];
    const reader = new LineReader((line) => lines.push(line));
    for (const chunk of chunks) reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    reader.end();
    return lines;
  }

  it('joins lines across chunks and treats \\r\\n split between chunks as one break', () => {
    expect(read(['ab', 'c\r', '\nd', 'e\r', 'f'])).toEqual(['abc', 'de', 'f']);
  });

  it('decodes a multi-byte character split between chunks, and drops only a leading BOM', () => {
    const euro = Buffer.from('\uFEFF€ ok\n\uFEFF');
    expect(read([euro.subarray(0, 1), euro.subarray(1, 4), euro.subarray(4)])).toEqual([
      '€ ok',
      '\uFEFF',
    ]);
  });

  it('turns invalid UTF-8 into U+FFFD without losing the line', () => {
    expect(read([Buffer.from([0x61, 0xff, 0x62, 0x0a])])).toEqual(['a\uFFFDb']);
  });
});
