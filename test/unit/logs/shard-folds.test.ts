import { describe, expect, it } from 'vitest';
import { ShardFolds } from '../../../src/logs/shard-folds.js';
import { Capture } from '../../support/capture.js';

describe('ShardFolds', () => {
  it('streams the open fold live, holds the others, and shows each in shard order', () => {
    const out = new Capture();
    const folds = new ShardFolds(out, ['one', 'two', 'three'], true);
    folds.writer(1).write('b1\n');
    folds.writer(0).write('a1\n');
    folds.writer(2).write('c1\n');
    expect(out.lines).toEqual(['::group::one', 'a1']);
    folds.end(2);
    folds.writer(1).write('b2\n');
    expect(out.lines).toEqual(['::group::one', 'a1']);
    folds.end(0);
    // Shard two is now live; three ended already and waits its turn.
    expect(out.lines).toEqual(['::group::one', 'a1', '::endgroup::', '::group::two', 'b1', 'b2']);
    folds.writer(1).write('b3\n');
    folds.end(1);
    expect(out.lines).toEqual([
      '::group::one',
      'a1',
      '::endgroup::',
      '::group::two',
      'b1',
      'b2',
      'b3',
      '::endgroup::',
      '::group::three',
      'c1',
      '::endgroup::',
    ]);
  });

  it('writes through, interleaved and without folds, outside GitHub', () => {
    const out = new Capture();
    const folds = new ShardFolds(out, ['one', 'two'], false);
    folds.writer(1).write('b\n');
    folds.writer(0).write('a\n');
    folds.end(0);
    folds.end(1);
    expect(out.lines).toEqual(['b', 'a']);
  });
});
