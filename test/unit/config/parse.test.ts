import { describe, expect, it } from 'vitest';
import {
  parseArgs,
  parseBoolean,
  parseChoice,
  parseCpu,
  parseDuration,
  parseGpus,
  parseKeyValueLines,
  parseMemory,
} from '../../../src/config/parse.js';

describe('parseCpu', () => {
  it.each([
    ['2', 2000],
    ['0.5', 500],
    ['500m', 500],
    ['1.25', 1250],
  ])('%s is %d millicores', (raw, millicores) => {
    expect(parseCpu('cpu', raw)?.millicores).toBe(millicores);
  });
  it('is undefined when empty', () => expect(parseCpu('cpu', '  ')).toBeUndefined());
  it.each(['-2', 'two', '0', '0m', '2 cores', '0.0001'])(
    'refuses %s naming input and value',
    (raw) => {
      expect(() => parseCpu('cpu', raw)).toThrow(
        new RegExp(
          `Input 'cpu' has invalid value "${raw.replace('.', '\\.')}": expected a positive number of CPUs`,
        ),
      );
    },
  );
});

describe('parseMemory', () => {
  it.each([
    ['512Mi', 512 * 1024 ** 2],
    ['4Gi', 4 * 1024 ** 3],
    ['1g', 1024 ** 3],
    ['512m', 512 * 1024 ** 2],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['64M', 64 * 1024 ** 2],
  ])('%s is %d bytes', (raw, bytes) => {
    expect(parseMemory('memory', raw)?.bytes).toBe(bytes);
  });
  it.each(['lots', '4 potatoes', '-1Gi', '1k', '12Pi'])('refuses %s', (raw) => {
    expect(() => parseMemory('memory', raw)).toThrow(
      `Input 'memory' has invalid value "${raw}": expected an amount of memory such as 512Mi, 4Gi, 512m or 1g (at least 6Mi)`,
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['45', 45_000],
    ['500ms', 500],
  ])('%s is %d ms', (raw, ms) => expect(parseDuration('timeout', raw)).toBe(ms));
  it.each(['soon', '0', '0s', '10 minutes', 's', '1x'])('refuses %s', (raw) => {
    expect(() => parseDuration('timeout', raw)).toThrow(
      `Input 'timeout' has invalid value "${raw}": expected a duration such as 90s, 30m, 2h or 1h30m`,
    );
  });
});

describe('choices and booleans', () => {
  it('names the accepted runtimes', () => {
    expect(() =>
      parseChoice('runtime', 'podman-ish', ['docker', 'kubernetes', 'local'], 'docker'),
    ).toThrow(
      `Input 'runtime' has invalid value "podman-ish": expected one of 'docker', 'kubernetes', 'local'`,
    );
  });
  it('falls back when empty', () => {
    expect(parseChoice('network', '', ['bridge', 'none'], 'bridge')).toBe('bridge');
  });
  it('reads booleans as the runner spells them', () => {
    expect(parseBoolean('dry-run', 'True', false)).toBe(true);
    expect(parseBoolean('dry-run', '', true)).toBe(true);
    expect(() => parseBoolean('dry-run', 'yes', false)).toThrow(
      `Input 'dry-run' has invalid value "yes"`,
    );
  });
  it('reads gpus', () => {
    expect(parseGpus('gpus', 'all')).toBe('all');
    expect(parseGpus('gpus', '2')).toBe(2);
    expect(() => parseGpus('gpus', '-1')).toThrow(/Input 'gpus' has invalid value "-1"/);
  });
});

describe('parseKeyValueLines', () => {
  it('reads KEY=VALUE lines, keeping = in values and skipping blanks and comments', () => {
    const env = parseKeyValueLines('env', 'A=1\n\n# note\nB=x=y\nC=\n', false);
    expect([...env]).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
      ['C', ''],
    ]);
  });
  it('reads multi-line values in heredoc form', () => {
    const secrets = parseKeyValueLines('secrets', 'KEY<<EOF\nline 1\nline 2\nEOF\nOTHER=2', true);
    expect(secrets.get('KEY')).toBe('line 1\nline 2');
    expect(secrets.get('OTHER')).toBe('2');
  });
  it('never echoes a secret line in its error', () => {
    let message = '';
    try {
      parseKeyValueLines('secrets', 'TOKEN=ok\nhunter2-no-equals', true);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe("Input 'secrets' is invalid: line 2 is not KEY=VALUE or KEY<<DELIMITER");
    expect(message).not.toContain('hunter2');
  });
  it('refuses bad names and unclosed heredocs', () => {
    expect(() => parseKeyValueLines('env', '1A=x', false)).toThrow(
      /Input 'env' has invalid value "1A=x"/,
    );
    expect(() => parseKeyValueLines('secrets', 'K<<END\nvalue', true)).toThrow(
      "Input 'secrets' is invalid: the multi-line value of K has no closing line 'END'",
    );
  });
});

describe('parseArgs', () => {
  it('splits as a shell would', () => {
    expect(parseArgs('args', `--map 'src/**/*.rs' -n 3 --args "a b"`)).toEqual([
      '--map',
      'src/**/*.rs',
      '-n',
      '3',
      '--args',
      'a b',
    ]);
  });
  it('keeps variables literal', () => {
    expect(parseArgs('args', '--param X=$HOME')).toEqual(['--param', 'X=${HOME}']);
  });
  it('refuses operators', () => {
    expect(() => parseArgs('args', '-n 3; rm -rf /')).toThrow(
      /Input 'args' has invalid value .*shell operators such as ';'/,
    );
  });
});
