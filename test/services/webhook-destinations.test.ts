import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseDuration, parseDurations, retryDelay } from '../../src/domain/durations.js';
import { isPublicAddress, resolveDestination, urlProblem } from '../../src/services/webhooks/destinations.js';

describe('webhook destinations', () => {
  it('tells public addresses from private, loopback, link-local and reserved ones', () => {
    for (const ip of [
      '93.184.215.14',
      '8.8.8.8',
      '1.1.1.1',
      '2606:4700:4700::1111',
      '2a00:1450:4007:80f::200e',
    ])
      expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of [
      '127.0.0.1',
      '127.255.0.9',
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '198.18.0.1',
      '192.0.2.10',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      '2001:db8::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '64:ff9b::a9fe:a9fe',
      'not-an-ip',
    ])
      expect(isPublicAddress(ip), ip).toBe(false);
    expect(isPublicAddress('172.32.0.1')).toBe(true);
    expect(isPublicAddress('::ffff:93.184.215.14')).toBe(true);
  });

  it('says what is wrong with a URL', () => {
    expect(urlProblem('https://hooks.example.com/billfold')).toBeNull();
    expect(urlProblem('not a url')).toBe("is not a URL (got 'not a url')");
    expect(urlProblem('ftp://x.example/y')).toBe("must be an http:// or https:// URL (got 'ftp:')");
    expect(urlProblem('https://a:b@x.example/y')).toMatch(/must not carry credentials/);
  });

  it('resolves a name once and refuses it when any address is private, unless allowed', async () => {
    await expect(resolveDestination(new URL('http://localhost:1/x'), false)).rejects.toThrow(
      /'localhost' resolves to .* which is a private, loopback, link-local or reserved address/,
    );
    const allowed = await resolveDestination(new URL('http://localhost:1/x'), true);
    expect(['127.0.0.1', '::1']).toContain(allowed.address);
    expect(await resolveDestination(new URL('http://[::1]:1/x'), true)).toEqual({
      address: '::1',
      family: 6,
    });
    await expect(resolveDestination(new URL('http://no-such-host.invalid/x'), true)).rejects.toThrow(
      /'no-such-host.invalid' could not be resolved/,
    );
  });
});

describe('retry schedules', () => {
  it('reads durations as configuration writes them', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('3d')).toBe(259_200_000);
    expect(parseDuration('5')).toBeNull();
    expect(parseDuration('1.5h')).toBeNull();
    expect(parseDurations('5s,5m, 30m,2h')).toEqual([5000, 300_000, 1_800_000, 7_200_000]);
    expect(parseDurations('5s,,5m')).toBeNull();
    expect(parseDurations('0s')).toBeNull();
  });

  it('waits the scheduled time ±20 %, the last wait repeating', () => {
    const schedule = [5000, 300_000, 36_000_000];
    expect(retryDelay(schedule, 1, 0)).toBe(4000);
    expect(retryDelay(schedule, 1, 1)).toBe(6000);
    expect(retryDelay(schedule, 2, 0.5)).toBe(300_000);
    expect(retryDelay(schedule, 3, 0.5)).toBe(36_000_000);
    expect(retryDelay(schedule, 9, 0.5)).toBe(36_000_000);
  });

  it('refuses a bad webhook setting, naming the variable', () => {
    expect(loadConfig({}).webhookRetrySchedule).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000,
    ]);
    expect(() => loadConfig({ BILLFOLD_WEBHOOK_RETRY_SCHEDULE: '5 seconds' })).toThrow(
      /^BILLFOLD_WEBHOOK_RETRY_SCHEDULE must be a comma-separated list of durations such as 5s,5m,30m,2h,5h,10h/,
    );
    expect(() => loadConfig({ BILLFOLD_WEBHOOK_TIMEOUT_SECONDS: '90' })).toThrow(
      'BILLFOLD_WEBHOOK_TIMEOUT_SECONDS must be an integer between 1 and 60',
    );
    expect(() => loadConfig({ BILLFOLD_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(
      "BILLFOLD_WEBHOOK_ALLOW_PRIVATE must be 1 or 0 (got 'yes')",
    );
    expect(loadConfig({ BILLFOLD_WEBHOOK_ALLOW_PRIVATE: '1' }).webhookAllowPrivate).toBe(true);
  });
});
