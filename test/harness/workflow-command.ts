/**
 * Parsing of workflow commands as actions/runner does it (src/Runner.Common/ActionCommand.cs):
 * - `::name k=v,k=v::data`, recognised after leading whitespace (the line is TrimStart-ed);
 * - the legacy `##[name k=v;k=v]data`, recognised ANYWHERE in a line.
 * Only registered names (case-insensitive) are commands. Property keys are case-insensitive.
 */
import { netTrim, netTrimStart } from './secret-masker.js';

export interface WorkflowCommand {
  /** As written in the line (the runner compares names case-insensitively). */
  name: string;
  properties: Record<string, string>;
  data: string;
}

type Mapping = readonly (readonly [token: string, escaped: string])[];

// The runner unescapes in this order, one replace after another.
const DATA_ESCAPES: Mapping = [
  ['\r', '%0D'],
  ['\n', '%0A'],
  ['%', '%25'],
];
const PROPERTY_ESCAPES: Mapping = [
  ['\r', '%0D'],
  ['\n', '%0A'],
  [':', '%3A'],
  [',', '%2C'],
  ['%', '%25'],
];
const LEGACY_ESCAPES: Mapping = [
  [';', '%3B'],
  ['\r', '%0D'],
  ['\n', '%0A'],
  [']', '%5D'],
  ['%', '%25'],
];

function unescape(value: string, mapping: Mapping): string {
  let out = value;
  for (const [token, escaped] of mapping) out = out.split(escaped).join(token);
  return out;
}

/** Escaping as @actions/core does it, for tests that write commands. */
export function escapeData(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

export function escapeProperty(value: string): string {
  return escapeData(value).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/**
 * .NET's `s.Split(separator, count, StringSplitOptions.RemoveEmptyEntries)`: empty pieces do not
 * count, and empty pieces right before the last one are skipped ("a==b" gives ["a", "b"]).
 */
export function netSplitRemoveEmpty(s: string, separator: string, count = Infinity): string[] {
  const out: string[] = [];
  let current = 0;
  let at = s.indexOf(separator, current);
  while (at >= 0) {
    const piece = s.slice(current, at);
    if (piece !== '') out.push(piece);
    current = at + separator.length;
    if (out.length === count - 1) {
      let next = s.indexOf(separator, current);
      while (next >= 0 && next === current) {
        current = next + separator.length;
        next = s.indexOf(separator, current);
      }
      break;
    }
    at = s.indexOf(separator, current);
  }
  const last = s.slice(current);
  if (last !== '') out.push(last);
  return out;
}

/** A case-insensitive property bag: the first spelling of a key is kept, the last value wins. */
function setProperty(properties: Record<string, string>, key: string, value: string): void {
  const existing = Object.keys(properties).find((k) => k.toLowerCase() === key.toLowerCase());
  Object.defineProperty(properties, existing ?? key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export function getProperty(command: WorkflowCommand, key: string): string | undefined {
  const found = Object.keys(command.properties).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : command.properties[found];
}

export type IsRegistered = (name: string) => boolean;

/** `::name k=v,k=v::data` (ActionCommand.TryParseV2). */
export function parseCommand(
  line: string,
  isRegistered: IsRegistered,
): WorkflowCommand | undefined {
  if (line === '') return undefined;
  const message = netTrimStart(line);
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!isRegistered(name)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of netSplitRemoveEmpty(netTrim(info.slice(space + 1)), ',')) {
      const kv = netSplitRemoveEmpty(pair, '=', 2);
      if (kv.length === 2) setProperty(properties, kv[0]!, unescape(kv[1]!, PROPERTY_ESCAPES));
    }
  }
  return { name, properties, data: unescape(message.slice(end + 2), DATA_ESCAPES) };
}

/** `##[name k=v;k=v]data`, anywhere in the line (ActionCommand.TryParse). */
export function parseLegacyCommand(
  line: string,
  isRegistered: IsRegistered,
): WorkflowCommand | undefined {
  if (line === '') return undefined;
  const prefix = line.indexOf('##[');
  if (prefix < 0) return undefined;
  const bracket = line.indexOf(']', prefix);
  if (bracket < 0) return undefined;
  const info = line.slice(prefix + 3, bracket);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!isRegistered(name)) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of netSplitRemoveEmpty(info.slice(space + 1), ';')) {
      const kv = netSplitRemoveEmpty(pair, '=', 2);
      if (kv.length === 2) setProperty(properties, kv[0]!, unescape(kv[1]!, LEGACY_ESCAPES));
    }
  }
  return { name, properties, data: unescape(line.slice(bracket + 1), LEGACY_ESCAPES) };
}
