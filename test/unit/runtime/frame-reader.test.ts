import { describe, expect, it } from 'vitest';
import { FrameReader, skipping } from '../../../src/runtime/docker/attach.js';
import type { OutputChunk } from '../../../src/runtime/types.js';

/** Docker's multiplexed framing: stream byte, three zero bytes, the payload's length. */
function frame(stream: 1 | 2, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('FrameReader', () => {
  const frames: [1 | 2, string][] = [
    [1, 'one\n'],
    [2, 'warning\n'],
    [1, ''],
    [1, 'a longer line of output, split anywhere\n'],
    [2, 'x'.repeat(70_000)],
  ];
  const wire = Buffer.concat(frames.map(([s, p]) => frame(s, p)));
  const want = frames
    .filter(([, p]) => p !== '')
    .map(([s, p]) => `${s === 2 ? 'stderr' : 'stdout'}:${p}`);

  it('gives the same frames however the bytes are cut, a header included', () => {
    for (const size of [1, 3, 7, 8, 9, 13, 64, 4096, wire.length]) {
      const got: string[] = [];
      const reader = new FrameReader((stream, payload) => got.push(`${stream}:${payload}`));
      for (let at = 0; at < wire.length; at += size) reader.push(wire.subarray(at, at + size));
      expect(got, `chunks of ${size}`).toEqual(want);
    }
  });
});

describe('skipping', () => {
  it('drops the first bytes of each stream, across chunks, and passes the rest on', () => {
    const got: string[] = [];
    const onChunk = skipping({ stdout: 5, stderr: 2 }, ({ stream, data }: OutputChunk) =>
      got.push(`${stream}:${data}`),
    );
    for (const [stream, text] of [
      ['stdout', 'abc'],
      ['stderr', 'xyz'],
      ['stdout', 'defg'],
      ['stdout', 'hi'],
    ] as const)
      onChunk({ stream, data: Buffer.from(text) });
    expect(got).toEqual(['stderr:z', 'stdout:fg', 'stdout:hi']);
  });
});
