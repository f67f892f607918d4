/**
 * Splits a child's output into lines as the runner's StreamReader.ReadLine does: a line ends at
 * `\n`, `\r\n` or a lone `\r`; a last line without a terminator still counts; a UTF-8 byte order
 * mark at the very start of the stream is dropped. Bytes are split first and each line decoded
 * whole (UTF-8, invalid bytes become U+FFFD), so no line is ever cut, whatever its length.
 */
const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export class LineReader {
  private readonly parts: Buffer[] = [];
  private head: Buffer | undefined = Buffer.alloc(0);
  private afterCR = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    if (this.head !== undefined) {
      // Wait for three bytes to know whether the stream opens with a byte order mark.
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < BOM.length) return;
      chunk = this.head.subarray(0, 3).equals(BOM) ? this.head.subarray(3) : this.head;
      this.head = undefined;
    }
    let start = 0;
    if (this.afterCR && chunk.length > 0) {
      this.afterCR = false;
      if (chunk[0] === LF) start = 1;
    }
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      this.emit(chunk.subarray(start, i));
      if (byte === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) i++;
        } else {
          this.afterCR = true;
        }
      }
      start = i + 1;
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }

  end(): void {
    if (this.head !== undefined) {
      const head = this.head;
      this.head = undefined;
      if (head.length > 0) this.push(head);
    }
    if (this.parts.length > 0) this.emit(Buffer.alloc(0));
  }

  private emit(tail: Buffer): void {
    const bytes = this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail]);
    this.parts.length = 0;
    this.onLine(bytes.toString('utf8'));
  }
}
