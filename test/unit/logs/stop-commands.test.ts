import { describe, expect, it } from 'vitest';
import { CommandGuard } from '../../../src/logs/stop-commands.js';

describe('CommandGuard', () => {
  it('makes a fresh random 32-hex-character token by default', () => {
    const a = new CommandGuard();
    const b = new CommandGuard();
    expect(a.token).toMatch(/^[0-9a-f]{32}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.start).toBe(`::stop-commands::${a.token}`);
    expect(a.end).toBe(`::${a.token}::`);
  });

  it('takes a given token', () => {
    const guard = new CommandGuard('tok-1');
    expect(guard.start).toBe('::stop-commands::tok-1');
    expect(guard.end).toBe('::tok-1::');
  });

  it.each(['', 'a b', 'a::b', 'a\nb', 'warning', 'Set-Output', 'pause-logging'])(
    'refuses the token %j',
    (token) => {
      expect(() => new CommandGuard(token)).toThrow(/Invalid stop-commands token/);
    },
  );
});
