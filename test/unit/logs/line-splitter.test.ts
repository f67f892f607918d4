import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/logs/line-splitter.js';

/** Every line the splitter yields for these chunks, the remainder included. */
function split(chunks: (Buffer | string)[]): string[] {
  const splitter = new LineSplitter();
  return [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.flush()];
}

describe('LineSplitter', () => {
  it('returns complete lines and keeps the rest for later', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('one\ntw')).toEqual(['one']);
    expect(splitter.push('o\nthr')).toEqual(['two']);
    expect(splitter.push('ee')).toEqual([]);
    expect(splitter.flush()).toEqual(['three']);
    expect(splitter.flush()).toEqual([]);
  });

  it('yields empty lines, and nothing for output ending in a newline', () => {
    expect(split(['\n\na\n', '\n'])).toEqual(['', '', 'a', '']);
  });

  it('keeps a UTF-8 character whole whatever byte boundary splits it', () => {
    const text = 'héllo ✓ 𝄞 日本語\nsecond ✓ line\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(split([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([
        'héllo ✓ 𝄞 日本語',
        'second ✓ line',
      ]);
    }
    // One byte at a time.
    expect(split([...bytes].map((b) => Buffer.from([b])))).toEqual([
      'héllo ✓ 𝄞 日本語',
      'second ✓ line',
    ]);
  });

  it('keeps \\r inside lines and before \\n', () => {
    expect(split(['10%\r50%\r100%\n', 'dos line\r\n', 'last\r'])).toEqual([
      '10%\r50%\r100%',
      'dos line\r',
      'last\r',
    ]);
  });

  it('is not fooled by a caller that reuses its buffer', () => {
    const splitter = new LineSplitter();
    const buffer = Buffer.from('abc');
    splitter.push(buffer);
    buffer.write('xyz');
    expect(splitter.push('\n')).toEqual(['abc']);
  });

  it('returns a 1 MB line whole, fed in 64 KiB chunks', () => {
    const line = 'x'.repeat(1024 * 1024);
    const bytes = Buffer.from(`${line}\nafter\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024)
      chunks.push(bytes.subarray(at, at + 64 * 1024));
    const lines = split(chunks);
    expect(lines.length).toBe(2);
    expect(lines[0]!.length).toBe(line.length);
    expect(lines[0] === line).toBe(true);
    expect(lines[1]).toBe('after');
  });

  it('returns a 50 MB unterminated line whole on flush', () => {
    const chunk = Buffer.alloc(64 * 1024, 'y');
    const splitter = new LineSplitter();
    for (let i = 0; i < 800; i++) expect(splitter.push(chunk)).toEqual([]);
    const [last, ...rest] = splitter.flush();
    expect(rest).toEqual([]);
    expect(last!.length).toBe(800 * 64 * 1024);
  });

  it('splits 100,000 lines fed in 64 KiB chunks, each once and in order, quickly', () => {
    const count = 100_000;
    const bytes = Buffer.from(
      Array.from({ length: count }, (_, i) => `line ${i} ✓\n`).join(''),
      'utf8',
    );
    const started = performance.now();
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024) {
      lines.push(...splitter.push(bytes.subarray(at, at + 64 * 1024)));
    }
    lines.push(...splitter.flush());
    const elapsed = performance.now() - started;

    expect(lines.length).toBe(count);
    lines.forEach((line, i) => {
      if (line !== `line ${i} ✓`) expect(line).toBe(`line ${i} ✓`);
    });
    expect(elapsed).toBeLessThan(1000);
  });
});
