/** An in-memory TextWriter, for reading what a LogSink showed. */
export class Capture {
  private readonly parts: string[] = [];
  write(text: string): boolean {
    this.parts.push(text);
    return true;
  }
  get text(): string {
    return this.parts.join('');
  }
  get lines(): string[] {
    const text = this.text;
    return text === '' ? [] : text.replace(/\n$/, '').split('\n');
  }
}
