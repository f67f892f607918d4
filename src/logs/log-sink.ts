import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { inert } from './inert.js';
import type { Masker } from './masker.js';
import type { CommandGuard } from './stop-commands.js';

export type StreamName = 'stdout' | 'stderr';

export interface TextWriter {
  write(text: string): unknown;
}

export interface LogSinkOptions {
  /** The whole log is written here, masked (directories are created; an old file is replaced). */
  filePath: string;
  /** Usually process.stdout. */
  stdout: TextWriter;
  /** Usually process.stderr. Unused for relayed lines while a guard is given: see relay(). */
  stderr: TextWriter;
  masker: Masker;
  /** When given, relayed lines are bracketed by guard.start and guard.end on stdout. */
  guard?: CommandGuard;
  /** How many of the last relayed lines to keep for tail() (default 200). */
  tailLines?: number;
  /** Put before every line shown and written, relayed or the action's own (e.g. "[shard 2/4] "). */
  linePrefix?: string;
}

const DEFAULT_TAIL_LINES = 200;
/** Text gathered before one write to the file, or to stdout. */
const BATCH_CHARS = 64 * 1024;

const openFile = promisify(fs.open);
const closeFile = promisify(fs.close);

/**
 * The single place output lines go: masked, shown in the step log (or the terminal), and
 * written to the log file. The file holds exactly what was shown, in the same order, without the
 * guard's own two lines.
 */
export class LogSink {
  readonly filePath: string;
  readonly #fd: number;
  readonly #stdout: TextWriter;
  readonly #stderr: TextWriter;
  readonly #masker: Masker;
  readonly #guard: CommandGuard | undefined;
  readonly #linePrefix: string;
  #guardOpen = false;

  // The file is written with fs.writeSync in batches of up to 64 KiB, flushed at the latest on the
  // next turn of the event loop: one system call per batch rather than per line, memory bounded
  // whatever the rate (relay() is synchronous, so a stream's backpressure could not be honoured),
  // order kept by construction, and every byte with the kernel within a tick, so a crash loses
  // almost nothing.
  #batch: string[] = [];
  #batchChars = 0;
  #flushTimer: NodeJS.Immediate | undefined;
  #fileError: unknown;
  // Relayed lines are shown the same way, to the one writer they go to: stdout is a pipe or a
  // file, written synchronously, and a write per line made the relay of a chatty workload cost
  // more than its run. The action's own lines are written at once, after whatever waits.
  #shown: string[] = [];
  #shownChars = 0;
  #shownTo: TextWriter | undefined;

  readonly #tailSize: number;
  readonly #tail: string[] = [];
  #tailNext = 0;
  #relayedLines = 0;
  #relayedBytes = 0;
  #closing: Promise<void> | undefined;

  private constructor(opts: LogSinkOptions, fd: number) {
    this.filePath = opts.filePath;
    this.#fd = fd;
    this.#stdout = opts.stdout;
    this.#stderr = opts.stderr;
    this.#masker = opts.masker;
    this.#guard = opts.guard;
    this.#linePrefix = opts.linePrefix ?? '';
    this.#tailSize = opts.tailLines ?? DEFAULT_TAIL_LINES;
  }

  static async open(opts: LogSinkOptions): Promise<LogSink> {
    const tailLines = opts.tailLines ?? DEFAULT_TAIL_LINES;
    if (!Number.isInteger(tailLines) || tailLines < 0) {
      throw new Error(`LogSink tailLines must be a whole number >= 0, got ${tailLines}`);
    }
    try {
      await fs.promises.mkdir(path.dirname(opts.filePath), { recursive: true });
      return new LogSink(opts, await openFile(opts.filePath, 'w'));
    } catch (error) {
      throw new Error(`opening the log file ${opts.filePath}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * One line of the program's output (no trailing newline): masked, prefixed (e.g. "[shard 2] "),
   * shown and written to the file. The first relayed line after the action's own output opens the
   * guard.
   *
   * While a guard is given, stderr lines go to the stdout writer too. The runner reads the two
   * pipes on separate threads and handles a batch's stderr lines before its stdout lines, so a
   * line on stderr could be handled before the guard's start, or after its end, and run as a
   * command. One pipe keeps the order; the step log shows both streams alike anyway.
   */
  relay(stream: StreamName, line: string, prefix = this.#linePrefix): void {
    this.#assertOpen();
    const masked = this.#masker.mask(line);
    const text = `${prefix}${masked}\n`;
    let writer = stream === 'stderr' ? this.#stderr : this.#stdout;
    if (this.#guard !== undefined) {
      writer = this.#stdout;
      if (!this.#guardOpen) {
        this.#show(this.#stdout, `${this.#guard.start}\n`);
        this.#guardOpen = true;
      }
    }
    this.#show(writer, text);
    this.#toFile(text);
    this.#relayedLines++;
    this.#relayedBytes += Buffer.byteLength(text, 'utf8');
    if (this.#tailSize > 0) {
      this.#tail[this.#tailNext] = masked;
      this.#tailNext = (this.#tailNext + 1) % this.#tailSize;
    }
  }

  /**
   * The action's own message (a newline is added unless it ends with one): closes the guard first
   * so the action's workflow commands work, then masked, shown on stdout and written to the file.
   */
  note(text: string): void {
    this.#assertOpen();
    this.endRelay();
    this.#own(inert(this.#masker.mask(text)));
  }

  /** A folded section of the action's own output, `::group::` to `::endgroup::` on the runner. */
  group(title: string): void {
    this.#assertOpen();
    this.endRelay();
    this.#own(`::group::${inert(this.#masker.mask(title)).replace(/\r?\n/g, ' ')}`);
  }

  endGroup(): void {
    this.#assertOpen();
    this.endRelay();
    this.#own('::endgroup::');
  }

  #own(text: string): void {
    const prefixed = this.#linePrefix ? text.replace(/^(?=.)/gm, this.#linePrefix) : text;
    const out = prefixed.endsWith('\n') ? prefixed : `${prefixed}\n`;
    this.#flushShown();
    this.#stdout.write(out);
    this.#toFile(out);
  }

  /**
   * Close the guard if open (write guard.end to stdout), e.g. before calling @actions/core; every
   * relayed line is shown by then.
   */
  endRelay(): void {
    if (this.#guard !== undefined && this.#guardOpen) {
      this.#show(this.#stdout, `${this.#guard.end}\n`);
      this.#guardOpen = false;
    }
    this.#flushShown();
  }

  get relayedLines(): number {
    return this.#relayedLines;
  }

  /** UTF-8 bytes of relayed text written (each line with its prefix and newline). */
  get relayedBytes(): number {
    return this.#relayedBytes;
  }

  /** The last relayed lines (masked, without prefix), oldest first. */
  tail(): string[] {
    if (this.#tail.length < this.#tailSize) return [...this.#tail];
    return [...this.#tail.slice(this.#tailNext), ...this.#tail.slice(0, this.#tailNext)];
  }

  /**
   * endRelay(), then write what is pending and close the file; resolves once every byte has been
   * written to it. Rejects if any write to the file failed. Calling it again returns the same
   * promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.endRelay();
    this.#flush();
    try {
      await closeFile(this.#fd);
    } catch (error) {
      this.#fileError ??= error;
    }
    if (this.#fileError !== undefined) {
      throw new Error(`writing the log file ${this.filePath}: ${messageOf(this.#fileError)}`, {
        cause: this.#fileError,
      });
    }
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new Error(`The log sink for ${this.filePath} is already closed`);
    }
  }

  #toFile(text: string): void {
    // After a failed write the file stays as it is; the output is still shown, and close() reports.
    if (this.#fileError !== undefined) return;
    this.#batch.push(text);
    this.#batchChars += text.length;
    if (this.#batchChars >= BATCH_CHARS) this.#flushFile();
    else this.#flushTimer ??= setImmediate(() => this.#flush());
  }

  #show(writer: TextWriter, text: string): void {
    if (this.#shownTo !== writer) this.#flushShown();
    this.#shownTo = writer;
    this.#shown.push(text);
    this.#shownChars += text.length;
    if (this.#shownChars >= BATCH_CHARS) this.#flushShown();
    else this.#flushTimer ??= setImmediate(() => this.#flush());
  }

  #flushShown(): void {
    if (this.#shown.length === 0) return;
    const text = this.#shown.join('');
    this.#shown = [];
    this.#shownChars = 0;
    this.#shownTo!.write(text);
  }

  /** What waits, shown and written to the file. */
  #flush(): void {
    if (this.#flushTimer !== undefined) {
      clearImmediate(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    this.#flushShown();
    this.#flushFile();
  }

  #flushFile(): void {
    if (this.#batch.length === 0 || this.#fileError !== undefined) return;
    const bytes = Buffer.from(this.#batch.join(''), 'utf8');
    this.#batch = [];
    this.#batchChars = 0;
    try {
      for (let written = 0; written < bytes.length;) {
        written += fs.writeSync(this.#fd, bytes, written, bytes.length - written);
      }
    } catch (error) {
      this.#fileError = error;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
