import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGuard, hostnameOf, isLoopback } from '../../src/interfaces/http/guard.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('DNS-rebinding guard', () => {
  it('treats only address literals in 127.0.0.0/8, ::1 and exactly localhost as loopback', () => {
    for (const host of [
      '127.0.0.1',
      '127.9.8.7',
      '127.255.255.255',
      '[::1]',
      '::1',
      'localhost',
      'LOCALHOST',
    ])
      expect(isLoopback(host), host).toBe(true);
    for (const host of ['::ffff:127.0.0.1', '[0:0:0:0:0:0:0:1]']) expect(isLoopback(host), host).toBe(true);
    for (const host of [
      '127.attacker.example',
      '127.0.0.1.nip.io',
      '127.0.0.1.',
      '127.1',
      '127.000.000.001',
      '128.0.0.1',
      '0.0.0.0',
      'localhost.',
      'localhost.attacker.example',
      'sub.localhost',
      '[::2]',
      '::ffff:8.8.8.8',
      '',
    ])
      expect(isLoopback(host), host).toBe(false);
  });

  it('reads the name of a Host header, and nothing that is not one', () => {
    expect(hostnameOf('LocalHost:8787')).toBe('localhost');
    expect(hostnameOf('127.0.0.1')).toBe('127.0.0.1');
    expect(hostnameOf('[::1]:8787')).toBe('[::1]');
    for (const bad of ['[::1', '[evil]:80', 'a:b:c', 'host:port', 'ex ample', 'a@b', 'x:99999999'])
      expect(hostnameOf(bad), bad).toBeNull();
  });

  it('refuses Host and Origin names that only start like loopback', () => {
    const guard = createGuard(loadConfig({}, { host: '127.0.0.1' }));
    expect(guard.open).toBe(false);
    for (const host of ['127.0.0.1:8787', '127.3.2.1', 'localhost:1', '[::1]:8787'])
      expect(guard.checkHost(req({ host })), host).toBeNull();
    for (const host of ['127.attacker.example', '127.0.0.1.nip.io:8787', 'evil.example', '127.1'])
      expect(guard.checkHost(req({ host })), host).toMatch(/not allowed|not a host name/);
    const host = '127.0.0.1:8787';
    for (const origin of ['http://127.0.0.1:5173', 'http://[::1]:3000', 'http://localhost', 'http://127.1'])
      expect(guard.checkOrigin(req({ host, origin })), origin).toEqual({ ok: true, origin });
    for (const origin of [
      'http://127.attacker.example',
      'https://127.0.0.1.nip.io',
      'http://localhost.evil.example',
    ])
      expect(guard.checkOrigin(req({ host, origin })).ok, origin).toBe(false);
  });

  it('adds BILLFOLD_ALLOWED_HOSTS names, and is open only bound beyond loopback without them', () => {
    const listed = createGuard(
      loadConfig({ BILLFOLD_ALLOWED_HOSTS: 'billing.example.com' }, { host: '0.0.0.0' }),
    );
    expect(listed.open).toBe(false);
    expect(listed.checkHost(req({ host: 'billing.example.com:443' }))).toBeNull();
    expect(listed.checkHost(req({ host: '127.billing.example.com' }))).not.toBeNull();
    expect(createGuard(loadConfig({}, { host: '0.0.0.0' })).open).toBe(true);
    expect(createGuard(loadConfig({}, { host: '127.0.0.1.nip.io' })).open).toBe(true);
    expect(createGuard(loadConfig({}, { host: '::1' })).open).toBe(false);
  });
});
