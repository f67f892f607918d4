/**
 * ARCHITECTURE.md, rule 2 against the real engine: the log connection is cut again and again while
 * the container writes, and every line still arrives once, in order.
 */
import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/logs/line-splitter.js';
import { attachOutput, relayAttached } from '../../src/runtime/docker/attach.js';
import {
  dockerLogSource,
  followLogs,
  type LogSource,
} from '../../src/runtime/docker/log-follower.js';
import { ground } from '../support/ground.js';

const g = ground();
const docker = new Docker({ socketPath: g.dockerHost.replace(/^unix:\/\//, '') });
const created: Docker.Container[] = [];

afterAll(async () => {
  for (const container of created) await container.remove({ force: true }).catch(() => {});
});

/** The real source, except that every followed stream is destroyed after `framesPerStream` frames. */
function droppingSource(
  inner: LogSource,
  framesPerStream: number,
  drops: { count: number },
): LogSource {
  const followed = new WeakSet<Readable>();
  return {
    ...inner,
    async open(follow, since, signal) {
      const stream = await inner.open(follow, since, signal);
      if (follow) followed.add(stream);
      return stream;
    },
    demux(stream: Readable, onFrame) {
      let frames = 0;
      inner.demux(stream, (name, payload) => {
        if (stream.destroyed) return;
        onFrame(name, payload);
        if (followed.has(stream) && ++frames === framesPerStream) {
          drops.count++;
          // A connection reset in the middle of the stream, as a proxy or daemon restart would.
          stream.destroy(Object.assign(new Error('simulated drop'), { code: 'ECONNRESET' }));
        }
      });
    },
  };
}

async function createWriting(script: string): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: g.busyboxImage,
    Entrypoint: ['sh', '-c', script],
    HostConfig: { LogConfig: { Type: 'json-file', Config: {} } },
  });
  created.push(container);
  return container;
}

async function startWriting(script: string): Promise<Docker.Container> {
  const container = await createWriting(script);
  await container.start();
  return container;
}

/** The lines of one relay of the attachment, and how often it opened the log. */
async function relayLines(
  container: Docker.Container,
  attached: Readable,
): Promise<{ lines: string[]; logReads: number }> {
  const inner = dockerLogSource(container, docker.modem);
  let logReads = 0;
  const source: LogSource = {
    ...inner,
    open: (follow, since, signal) => {
      logReads++;
      return inner.open(follow, since, signal);
    },
  };
  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const lines: string[] = [];
  await relayAttached(attached, source, (chunk) => {
    lines.push(...splitters[chunk.stream].push(chunk.data).map((l) => `${chunk.stream} ${l}`));
  });
  for (const [name, splitter] of Object.entries(splitters))
    lines.push(...splitter.flush().map((l) => `${name} ${l}`));
  return { lines, logReads };
}

/** 20,000 lines over about two seconds, the tenth of each thousand on stderr. */
const TWENTY_THOUSAND =
  'i=0; while [ $i -lt 20 ]; do seq $((i*1000+1)) $((i*1000+1000)) | while read n; do case $n in *0) echo $n >&2;; *) echo $n;; esac; done; i=$((i+1)); done';
const expected = Array.from({ length: 20_000 }, (_, i) =>
  (i + 1) % 10 === 0 ? `stderr ${i + 1}` : `stdout ${i + 1}`,
);
const byStream = (lines: string[], name: string) => lines.filter((l) => l.startsWith(name));

describe('the output attached before the start, as docker run reads it', () => {
  it('is whole without reading the log when the attachment ends with the container', async () => {
    const container = await createWriting(TWENTY_THOUSAND);
    const attached = await attachOutput(container);
    await container.start();
    const { lines, logReads } = await relayLines(container, attached!);
    expect(logReads).toBe(0);
    expect(byStream(lines, 'stdout')).toEqual(byStream(expected, 'stdout'));
    expect(byStream(lines, 'stderr')).toEqual(byStream(expected, 'stderr'));
  });

  it('falls back to the log, skipping what came, when the attachment is cut mid-run', async () => {
    const container = await createWriting(TWENTY_THOUSAND);
    const real = (await attachOutput(container))!;
    await container.start();
    // The connection is reset after the first 64 KiB or so, while the container still writes.
    let seen = 0;
    const cut = new PassThrough();
    real.on('data', (chunk: Buffer) => {
      if (cut.destroyed) return;
      seen += chunk.length;
      cut.write(chunk);
      if (seen > 64 * 1024) {
        real.destroy();
        cut.destroy(Object.assign(new Error('simulated drop'), { code: 'ECONNRESET' }));
      }
    });
    const { lines, logReads } = await relayLines(container, cut);
    expect(logReads).toBeGreaterThan(0);
    expect(byStream(lines, 'stdout')).toEqual(byStream(expected, 'stdout'));
    expect(byStream(lines, 'stderr')).toEqual(byStream(expected, 'stderr'));
  });

  it('does not take an end while the container runs on for the end of its output', async () => {
    const container = await createWriting('echo before; sleep 3; echo after');
    const real = (await attachOutput(container))!;
    await container.start();
    // Ended cleanly after the first line, as a proxy closing the connection would.
    const ended = new PassThrough();
    real.once('data', (chunk: Buffer) => {
      ended.end(chunk);
      real.destroy();
    });
    const { lines, logReads } = await relayLines(container, ended);
    expect(logReads).toBeGreaterThan(0);
    expect(lines).toEqual(['stdout before', 'stdout after']);
  });
});

describe('following Docker logs across dropped connections', () => {
  it('delivers every line once and in order while the stream is cut every 700 messages', async () => {
    // 20,000 lines written over about two seconds, so drops happen while it is still writing.
    const container = await startWriting(
      'i=0; while [ $i -lt 20 ]; do seq $((i*1000+1)) $((i*1000+1000)); i=$((i+1)); sleep 0.1; done',
    );
    const drops = { count: 0 };
    const splitter = new LineSplitter();
    const lines: string[] = [];
    await followLogs(
      droppingSource(dockerLogSource(container, docker.modem), 700, drops),
      (chunk) => {
        lines.push(...splitter.push(chunk.data));
      },
      { retryDelayMs: 10 },
    );
    lines.push(...splitter.flush());

    expect(drops.count).toBeGreaterThan(5);
    expect(lines.length).toBe(20_000);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
  });

  it('reads the tail once more when the followed stream ends before the container does', async () => {
    const container = await startWriting('echo first; sleep 1; echo last-line');
    const lines: string[] = [];
    const splitter = new LineSplitter();
    const drops = { count: 0 };
    await followLogs(
      droppingSource(dockerLogSource(container, docker.modem), 1, drops),
      (chunk) => {
        lines.push(...splitter.push(chunk.data));
      },
      { retryDelayMs: 10 },
    );
    expect(lines).toEqual(['first', 'last-line']);
  });

  it('reads a tail of 100,000 lines in one read when following never got through', async () => {
    const container = await startWriting('seq 1 100000');
    await container.wait();
    const inner = dockerLogSource(container, docker.modem);
    const lines: string[] = [];
    const splitter = new LineSplitter();
    await followLogs(
      {
        ...inner,
        // Every followed connection is lost at once: all of it comes in the one unfollowed read.
        open: async (follow, since, signal) => {
          if (follow) throw Object.assign(new Error('simulated drop'), { code: 'ECONNRESET' });
          return inner.open(follow, since, signal);
        },
      },
      (chunk) => {
        lines.push(...splitter.push(chunk.data));
      },
      { retryDelayMs: 10 },
    );
    lines.push(...splitter.flush());
    expect(lines.length).toBe(100_000);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
  });
});
