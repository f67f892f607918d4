const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into lines. Only `\n` ends a line. A `\r` stays where the program put it,
 * a `\r\n` ending included: progress bars and CRLF endings are the program's own output, the
 * runner renders them, and the log file keeps them byte for byte.
 *
 * Lines have no length cap (the only limit is V8's largest string, about 512 MiB). Each line is
 * decoded from its complete bytes, so a UTF-8 character split across chunks stays whole.
 */
export class LineSplitter {
  /** Bytes of the unterminated line so far, one part per chunk (joined once, at its end). */
  #pending: Buffer[] = [];

  /** Feed raw bytes; returns the complete lines (without the trailing "\n") found so far. */
  push(chunk: Buffer | string): string[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
      if (this.#pending.length === 0) {
        lines.push(bytes.toString('utf8', start, end));
      } else {
        this.#pending.push(bytes.subarray(start, end));
        lines.push(Buffer.concat(this.#pending).toString('utf8'));
        this.#pending = [];
      }
      start = end + 1;
    }
    if (start < bytes.length) {
      // A copy: the caller may reuse its buffer, and a slice would keep the whole chunk alive.
      this.#pending.push(Buffer.from(bytes.subarray(start)));
    }
    return lines;
  }

  /** The unterminated remainder, if any, as a final line; resets. */
  flush(): string[] {
    if (this.#pending.length === 0) return [];
    const last = Buffer.concat(this.#pending).toString('utf8');
    this.#pending = [];
    return [last];
  }
}
