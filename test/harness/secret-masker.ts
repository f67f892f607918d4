/**
 * The runner's secret masker (actions/runner src/Sdk/DTLogging/Logging/SecretMasker.cs), with the
 * value encoders HostContext registers. One masker lives for the whole job: a mask added in `main`
 * still masks `post`. There is no minimum length: a one-character secret is masked too.
 */

/** .NET's char.IsWhiteSpace, which differs from JavaScript's \s (U+0085 yes, U+FEFF no). */
const NET_WHITESPACE =
  '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_WHITESPACE = new RegExp(`^[${NET_WHITESPACE}]+`);
const TRAILING_WHITESPACE = new RegExp(`[${NET_WHITESPACE}]+$`);
const ONLY_WHITESPACE = new RegExp(`^[${NET_WHITESPACE}]*$`);

export function netTrimStart(value: string): string {
  return value.replace(LEADING_WHITESPACE, '');
}

export function netTrim(value: string): string {
  return value.replace(LEADING_WHITESPACE, '').replace(TRAILING_WHITESPACE, '');
}

export function netIsNullOrWhiteSpace(value: string | undefined): boolean {
  return value === undefined || ONLY_WHITESPACE.test(value);
}

type ValueEncoder = (value: string) => string;

function base64Shift(value: string, shift: number): string {
  const bytes = Buffer.from(value, 'utf8');
  return (bytes.length > shift ? bytes.subarray(shift) : bytes).toString('base64');
}

/** Newtonsoft's JsonConvert.ToString without the surrounding quotes (lower-case \u escapes). */
function jsonStringEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\r':
        out += '\\r';
        break;
      default:
        out +=
          code < 0x20 || code === 0x85 || code === 0x2028 || code === 0x2029
            ? `\\u${code.toString(16).padStart(4, '0')}`
            : ch;
    }
  }
  return out;
}

/** .NET's Uri.EscapeDataString: every byte but RFC 3986 unreserved characters, upper-case hex. */
function uriDataEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch)
      ? ch
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** .NET's SecurityElement.Escape. */
function xmlDataEscape(value: string): string {
  return value.replace(/[<>"'&]/g, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return '&amp;';
    }
  });
}

function trimDoubleQuotes(value: string): string {
  return value.length > 8 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : '';
}

function powerShellPreAmpersand(value: string): string {
  if (!value.includes('&')) return '';
  const section = value.includes('&+')
    ? value.slice(0, value.indexOf('&+') + 2)
    : value.slice(0, value.lastIndexOf('&') + 1);
  return section.length >= 6 ? section : '';
}

function powerShellPostAmpersand(value: string): string {
  if (!value.includes('&')) return '';
  let section = '';
  if (value.includes('&+')) {
    const at = value.indexOf('&+');
    if (value.length > at + 3) section = value.slice(at + 3);
  } else {
    section = value.slice(value.lastIndexOf('&') + 1);
  }
  return section.length >= 6 ? section : '';
}

/** The encoders HostContext adds, in its order (src/Runner.Common/HostContext.cs). */
const VALUE_ENCODERS: readonly ValueEncoder[] = [
  (v) => Buffer.from(v, 'utf8').toString('base64'),
  (v) => base64Shift(v, 1),
  (v) => base64Shift(v, 2),
  (v) => v.replaceAll('"', '\\"'),
  (v) => v.replaceAll("'", "''"),
  jsonStringEscape,
  uriDataEscape,
  xmlDataEscape,
  trimDoubleQuotes,
  powerShellPreAmpersand,
  powerShellPostAmpersand,
];

export class SecretMasker {
  private readonly originals = new Set<string>();
  private readonly values = new Set<string>();

  /** Registers a secret and its encoded forms. Returns false for an empty or known value. */
  add(value: string): boolean {
    if (value === '' || this.originals.has(value)) return false;
    this.originals.add(value);
    this.values.add(value);
    for (const encode of VALUE_ENCODERS) {
      const encoded = encode(value);
      if (encoded !== '') this.values.add(encoded);
    }
    return true;
  }

  get secrets(): string[] {
    return [...this.originals];
  }

  /** Every occurrence (overlaps included) is found; touching or overlapping ranges merge into one `***`. */
  mask(input: string): string {
    if (input === '' || this.values.size === 0) return input;
    const ranges: [number, number][] = [];
    for (const value of this.values) {
      for (let at = input.indexOf(value); at >= 0; at = input.indexOf(value, at + 1)) {
        ranges.push([at, at + value.length]);
      }
    }
    if (ranges.length === 0) return input;
    ranges.sort((a, b) => a[0] - b[0]);
    let out = '';
    let cursor = 0;
    let [start, end] = ranges[0]!;
    for (const [s, e] of ranges.slice(1)) {
      if (s <= end) {
        end = Math.max(end, e);
      } else {
        out += input.slice(cursor, start) + '***';
        cursor = end;
        [start, end] = [s, e];
      }
    }
    return out + input.slice(cursor, start) + '***' + input.slice(end);
  }
}
