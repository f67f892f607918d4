const MASK = '***';

interface Range {
  readonly start: number;
  readonly end: number;
}

/** Occurrences that overlap or touch become one, so no part of any secret shows between them. */
function merged(found: Range[]): Range[] {
  found.sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  let current = found[0]!;
  for (const next of found.slice(1)) {
    if (next.start <= current.end)
      current = { start: current.start, end: Math.max(current.end, next.end) };
    else {
      out.push(current);
      current = next;
    }
  }
  out.push(current);
  return out;
}

/**
 * Hides secrets in text, the way the Actions runner does, so that the log file (which the runner
 * never sees) and the step log show the same thing.
 */
export class Masker {
  readonly #values: string[] = [];
  readonly #known = new Set<string>();
  /** Every value and the encoded forms the runner also masks; searched in each text. */
  readonly #patterns: string[] = [];
  readonly #knownPatterns = new Set<string>();

  /**
   * Register a secret. Empty and whitespace-only values are ignored (the runner's `add-mask`
   * refuses them too; masking blanks would wreck every line). A multi-line value also registers
   * each of its lines that is not blank, without its trailing `\r`: output is masked one line at
   * a time, so a secret that spans lines can only be caught line by line.
   */
  add(secret: string): void {
    this.#register(secret);
    if (!secret.includes('\n')) return;
    for (const line of secret.split('\n')) {
      this.#register(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
  }

  /** Every registered value, and each line of a multi-line one, in the order to hand to core.setSecret. */
  get values(): readonly string[] {
    return this.#values;
  }

  /**
   * Replace every occurrence of every registered value with "***". Occurrences that overlap or
   * touch (secrets "abc" and "abcdef", or "abc" and "cde" in "abcde") become a single "***", so no
   * part of any of them shows; the order in which values were added does not matter.
   */
  mask(text: string): string {
    if (this.#patterns.length === 0 || text.length === 0) return text;
    const found: Range[] = [];
    for (const pattern of this.#patterns) {
      // Step by one so that overlapping occurrences ("aa" in "aaa") are all found.
      for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + 1)) {
        found.push({ start: at, end: at + pattern.length });
      }
    }
    if (found.length === 0) return text;
    let masked = '';
    let copiedUpTo = 0;
    for (const range of merged(found)) {
      masked += text.slice(copiedUpTo, range.start) + MASK;
      copiedUpTo = range.end;
    }
    return masked + text.slice(copiedUpTo);
  }

  /**
   * The same for bytes (a file for the artifact, text or not): each secret's UTF-8 bytes and
   * encoded forms become "***". For valid UTF-8 this is exactly mask() of its text.
   */
  maskBytes(data: Buffer): Buffer {
    if (this.#patterns.length === 0 || data.length === 0) return data;
    const found: Range[] = [];
    for (const pattern of this.#patterns) {
      const bytes = Buffer.from(pattern, 'utf8');
      for (let at = data.indexOf(bytes); at !== -1; at = data.indexOf(bytes, at + 1)) {
        found.push({ start: at, end: at + bytes.length });
      }
    }
    if (found.length === 0) return data;
    const pieces: Buffer[] = [];
    let copiedUpTo = 0;
    for (const range of merged(found)) {
      pieces.push(data.subarray(copiedUpTo, range.start), Buffer.from(MASK));
      copiedUpTo = range.end;
    }
    pieces.push(data.subarray(copiedUpTo));
    return Buffer.concat(pieces);
  }

  #register(value: string): void {
    if (value.trim() === '' || this.#known.has(value)) return;
    this.#known.add(value);
    this.#values.push(value);
    for (const pattern of [value, ...encodings(value)]) {
      if (pattern !== '' && !this.#knownPatterns.has(pattern)) {
        this.#knownPatterns.add(pattern);
        this.#patterns.push(pattern);
      }
    }
  }
}

/**
 * The encoded forms of a secret that the runner masks as well (its ValueEncoders): base64 at each
 * of the three byte alignments (as in base64("user:" + password)), JSON, URI, XML and expression
 * string escapes, and a quoted value without its quotes.
 */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = [0, 1, 2].map((shift) =>
    (bytes.length > shift ? bytes.subarray(shift) : bytes).toString('base64'),
  );
  forms.push(JSON.stringify(value).slice(1, -1));
  const uri = uriDataEscape(value);
  if (uri !== undefined) forms.push(uri);
  forms.push(
    value
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;'),
  );
  forms.push(value.replaceAll("'", "''"));
  if (value.length > 8 && value.startsWith('"') && value.endsWith('"')) {
    forms.push(value.slice(1, -1));
  }
  return forms;
}

/** .NET's Uri.EscapeDataString: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
function uriDataEscape(value: string): string | undefined {
  try {
    return encodeURIComponent(value).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    // A lone surrogate cannot be percent-encoded; the plain value is still masked.
    return undefined;
  }
}
