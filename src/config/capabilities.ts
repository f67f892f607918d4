/**
 * The Linux capabilities a container keeps. Docker's default set minus what only serves an
 * escape or an attack on the runner's network: MKNOD (a device node made in the bind-mounted
 * workspace opens the runner's device), NET_RAW (spoofed packets on the runner's bridge),
 * SETPCAP, SETFCAP, SYS_CHROOT and AUDIT_WRITE. What is kept is what a root user in an agent
 * image needs to install packages and run a test server.
 */
import { InputError } from './errors.js';
import { Inputs } from './names.js';

export const KEPT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'NET_BIND_SERVICE',
] as const;

const NAME = /^(?:CAP_)?([A-Z][A-Z0-9_]*)$/;

/**
 * The `capabilities` input: words separated by commas, blanks or lines; `+NAME` (or `NAME`)
 * keeps one more, `-NAME` gives one up, `-ALL` gives up every kept one. Returns the sorted set.
 */
export function parseCapabilities(raw: string): readonly string[] {
  const kept = new Set<string>(KEPT_CAPABILITIES);
  for (const word of raw.split(/[\s,]+/).filter(Boolean)) {
    const sign = word.startsWith('-') ? '-' : '+';
    const match = NAME.exec(word.replace(/^[+-]/, '').toUpperCase());
    if (!match) {
      throw new InputError(
        Inputs.capabilities,
        word,
        'capability names such as +NET_RAW or -SETUID (a leading + keeps one more, - gives one up, -ALL gives up all)',
      );
    }
    const name = match[1]!;
    if (name === 'ALL') {
      if (sign === '+') {
        throw new InputError(
          Inputs.capabilities,
          word,
          'named capabilities; +ALL would make the container all but privileged',
        );
      }
      kept.clear();
    } else if (sign === '+') kept.add(name);
    else kept.delete(name);
  }
  return [...kept].sort();
}
