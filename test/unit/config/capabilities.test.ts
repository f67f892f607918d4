import { describe, expect, it } from 'vitest';
import { KEPT_CAPABILITIES, parseCapabilities } from '../../../src/config/capabilities.js';

describe('the capabilities input', () => {
  it('keeps the safe set by default, never MKNOD or NET_RAW', () => {
    const kept = parseCapabilities('');
    expect(kept).toEqual([...KEPT_CAPABILITIES].sort());
    expect(kept).not.toContain('MKNOD');
    expect(kept).not.toContain('NET_RAW');
  });

  it('adds and gives up capabilities as told', () => {
    expect(parseCapabilities('+NET_RAW, -setuid\ncap_sys_ptrace')).toEqual(
      [...KEPT_CAPABILITIES, 'NET_RAW', 'SYS_PTRACE'].filter((c) => c !== 'SETUID').sort(),
    );
    expect(parseCapabilities('-ALL')).toEqual([]);
    expect(parseCapabilities('-ALL +CHOWN')).toEqual(['CHOWN']);
  });

  it('names the input, the value and what is accepted', () => {
    expect(() => parseCapabilities('+NET RAW!')).toThrow(
      /Input 'capabilities' has invalid value "RAW!": expected capability names such as \+NET_RAW/,
    );
    expect(() => parseCapabilities('+ALL')).toThrow(
      /\+ALL would make the container all but privileged/,
    );
  });
});
