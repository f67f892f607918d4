/**
 * Output of shards running at once, kept readable: every line carries its shard's prefix (the
 * shards' sinks add it), and in the step log each shard's output is one fold. The shard whose fold
 * is open streams live; the others are held until it ends, then shown in shard order, each in its
 * own fold, and the next unfinished one goes on live. Nothing is dropped or reordered within a
 * shard. Outside GitHub there are no folds: lines go out as they come, interleaved.
 *
 * A fold only opens or closes between two complete shard streams, never inside one: each shard's
 * sink brackets its relayed lines with a stop-commands guard, and a `::group::` inside that would
 * be shown as text.
 */
import type { TextWriter } from './log-sink.js';

export class ShardFolds {
  readonly #out: TextWriter;
  readonly #fold: boolean;
  readonly #titles: readonly string[];
  readonly #held: string[][];
  readonly #ended: boolean[];
  /** The shard shown live (its fold open), or the count once all are shown. */
  #current = 0;
  #opened = false;

  constructor(out: TextWriter, titles: readonly string[], fold: boolean) {
    this.#out = out;
    this.#fold = fold;
    this.#titles = titles;
    this.#held = titles.map(() => []);
    this.#ended = titles.map(() => false);
  }

  /** Where shard `index` writes. */
  writer(index: number): TextWriter {
    return {
      write: (text: string) => {
        if (!this.#fold) return this.#out.write(text);
        this.#open();
        if (index === this.#current) return this.#out.write(text);
        this.#held[index]!.push(text);
        return true;
      },
    };
  }

  /** Shard `index` will write no more. */
  end(index: number): void {
    this.#ended[index] = true;
    if (!this.#fold) return;
    this.#open();
    while (this.#current < this.#titles.length && this.#ended[this.#current]) {
      this.#out.write('::endgroup::\n');
      this.#current++;
      if (this.#current < this.#titles.length) this.#show(this.#current);
    }
  }

  #open(): void {
    if (this.#opened) return;
    this.#opened = true;
    this.#show(0);
  }

  #show(index: number): void {
    this.#out.write(`::group::${this.#titles[index]}\n`);
    for (const text of this.#held[index]!.splice(0)) this.#out.write(text);
  }
}
