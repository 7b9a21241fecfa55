import { describe, expect, it } from 'vitest';
import { hostAllowed, hostName } from './host-check.ts';

describe('hostName', () => {
  it('takes the name out of a Host header: no port, no brackets, no trailing dot, lowercase', () => {
    expect(hostName('Evil.Example:3847')).toBe('evil.example');
    expect(hostName('localhost.')).toBe('localhost');
    expect(hostName('127.0.0.1:49153')).toBe('127.0.0.1');
    expect(hostName('[::1]:3847')).toBe('::1');
    expect(hostName('[::1]')).toBe('::1');
  });

  it('gives nothing for what is not a host', () => {
    for (const header of ['', 'a b', 'evil.example:port', '::1', 'evil.example/x', '[evil.example]']) {
      expect(hostName(header)).toBeUndefined();
    }
  });
});

describe('hostAllowed', () => {
  const listed = new Set(['chat.example.com']);

  it('lets loopback names, IP addresses and listed names through, on any port', () => {
    for (const header of [
      'localhost:3847',
      'alice.localhost:8080',
      '127.0.0.1:49153',
      '172.17.0.5:3847',
      '[::1]:3847',
      'chat.example.com',
      'CHAT.example.com:443',
    ]) {
      expect(hostAllowed(header, listed), header).toBe(true);
    }
  });

  it('refuses a rebound name, a name merely ending like a listed one, and no Host at all', () => {
    for (const header of [
      'evil.example:3847',
      'evil.example',
      'localhost.evil.example',
      'evilchat.example.com',
      'chat.example.com.evil.example',
      '',
      undefined,
    ]) {
      expect(hostAllowed(header, listed), String(header)).toBe(false);
    }
  });
});
