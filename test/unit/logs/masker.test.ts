import { describe, expect, it } from 'vitest';
import { Masker } from '../../../src/logs/masker.js';

function masker(...secrets: string[]): Masker {
  const m = new Masker();
  for (const secret of secrets) m.add(secret);
  return m;
}

describe('Masker', () => {
  it('leaves text alone when nothing is registered', () => {
    expect(new Masker().mask('token=abc')).toBe('token=abc');
  });

  it('masks every occurrence', () => {
    expect(masker('hunter2').mask('pw hunter2 and hunter2hunter2!')).toBe('pw *** and ***!');
  });

  it('ignores empty and whitespace-only values', () => {
    const m = masker('', '   ', '\t\r\n');
    expect(m.values).toEqual([]);
    expect(m.mask('a b\tc')).toBe('a b\tc');
  });

  it('lists each value once, in the order added', () => {
    expect(masker('one', 'two', 'one').values).toEqual(['one', 'two']);
  });

  it('registers a multi-line value and each non-blank line, without \\r', () => {
    const m = masker('-----BEGIN KEY-----\r\nAAAA1111\r\n\r\n  \r\n-----END KEY-----\r\n');
    expect(m.values).toEqual([
      '-----BEGIN KEY-----\r\nAAAA1111\r\n\r\n  \r\n-----END KEY-----\r\n',
      '-----BEGIN KEY-----',
      'AAAA1111',
      '-----END KEY-----',
    ]);
    // Output is masked one line at a time: each line of the secret is caught on its own.
    expect(m.mask('key: AAAA1111')).toBe('key: ***');
    expect(m.mask('-----END KEY-----')).toBe('***');
    // A text holding the whole value is masked as one.
    expect(m.mask('x -----BEGIN KEY-----\r\nAAAA1111\r\n\r\n  \r\n-----END KEY-----\r\n y')).toBe(
      'x *** y',
    );
  });

  it('masks nested secrets entirely, whichever was added first', () => {
    for (const m of [masker('abc', 'abcdef'), masker('abcdef', 'abc')]) {
      expect(m.mask('abcdef')).toBe('***');
      expect(m.mask('xabcdefx abcx')).toBe('x***x ***x');
      expect(m.mask('zzabcdezz')).toBe('zz***dezz');
    }
  });

  it('masks overlapping secrets as one span, so no part of either shows', () => {
    expect(masker('abc', 'cde').mask('xabcdex')).toBe('x***x');
    expect(masker('aba').mask('ababa')).toBe('***');
    expect(masker('aa').mask('aaaaa b')).toBe('*** b');
  });

  it('masks the encoded forms the runner masks too', () => {
    const secret = `p@ss "w" <rd>'s`;
    const m = masker(secret);
    expect(m.values).toEqual([secret]);
    const base64 = Buffer.from(secret).toString('base64');
    const jsonEscaped = JSON.stringify(secret).slice(1, -1);
    expect(m.mask(`b64=${base64}`)).toBe('b64=***');
    expect(m.mask(`{"pw":"${jsonEscaped}"}`)).toBe('{"pw":"***"}');
    expect(m.mask('url?p=p%40ss%20%22w%22%20%3Crd%3E%27s')).toBe('url?p=***');
    expect(m.mask('p@ss &quot;w&quot; &lt;rd&gt;&apos;s')).toBe('***');
    // In base64("u:" + secret) the secret starts two bytes into a 3-byte group: all of it after
    // the first group is masked, as the runner does.
    const basic = Buffer.from(`u:${secret}`).toString('base64');
    expect(m.mask(`Authorization: Basic ${basic}`)).toBe(
      `Authorization: Basic ${basic.slice(0, 4)}***`,
    );
  });

  it('masks a 1 MB line', () => {
    const m = masker('s3cret');
    const line = `${'x'.repeat(1024 * 1024)}s3cret${'y'.repeat(10)}`;
    expect(m.mask(line)).toBe(`${'x'.repeat(1024 * 1024)}***${'y'.repeat(10)}`);
  });
});
