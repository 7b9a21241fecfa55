import { describe, expect, it } from 'vitest';
import { firstRun, followingRun, wallTimeToEpoch } from './schedule.ts';

const at = (iso: string) => Date.parse(iso);

describe('firstRun', () => {
  it('reads cron in the configured time zone', () => {
    // 09:00 on Mondays in Berlin (CET, UTC+1 in January) is 08:00 UTC.
    expect(firstRun('cron', '0 9 * * 1', 'Europe/Berlin', at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-05T08:00:00Z'),
    );
    expect(firstRun('cron', '0 9 * * 1', 'America/New_York', at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-05T14:00:00Z'),
    );
  });

  it('reads a one-off time with an offset as given, and without one as wall time in the zone', () => {
    expect(firstRun('once', '2026-07-01T12:00:00Z', 'Europe/Berlin', 0)).toBe(at('2026-07-01T12:00:00Z'));
    expect(firstRun('once', '2026-07-01T12:00:00+02:00', 'UTC', 0)).toBe(at('2026-07-01T10:00:00Z'));
    // Berlin is UTC+2 in summer and UTC+1 in winter.
    expect(firstRun('once', '2026-07-01T12:00:00', 'Europe/Berlin', 0)).toBe(at('2026-07-01T10:00:00Z'));
    expect(firstRun('once', '2026-01-15T12:00', 'Europe/Berlin', 0)).toBe(at('2026-01-15T11:00:00Z'));
  });

  it('starts an interval from now', () => {
    expect(firstRun('interval', '60000', 'UTC', 1000)).toBe(61_000);
  });

  it('says what is wrong with a bad schedule', () => {
    expect(firstRun('cron', 'every day', 'UTC', 0)).toMatch(/^"every day" is not a cron expression/);
    expect(firstRun('interval', '10', 'UTC', 0)).toBe(
      'interval "10" must be a whole number of milliseconds, at least 1000',
    );
    expect(firstRun('interval', '1.5e4', 'UTC', 0)).toMatch(/must be a whole number/);
    expect(firstRun('once', 'tomorrow', 'UTC', 0)).toBe(
      '"tomorrow" is not an ISO time such as 2026-02-01T15:30:00',
    );
    expect(firstRun('once', '2026-02-30T10:00:00', 'UTC', 0)).toBe(
      '"2026-02-30T10:00:00" is not a real date and time',
    );
  });
});

describe('followingRun (the missed-run policy)', () => {
  it('keeps an interval on its grid and skips the runs missed while down', () => {
    // Due at 0, every minute; the host comes back at 5.5 minutes: one run now, the next at 6 minutes.
    expect(followingRun('interval', '60000', 'UTC', 0, 330_000)).toBe(360_000);
    expect(followingRun('interval', '60000', 'UTC', 0, 10)).toBe(60_000);
  });

  it('takes the next cron time after now, and none after a one-off', () => {
    expect(
      followingRun('cron', '*/5 * * * *', 'UTC', at('2026-01-01T00:00:00Z'), at('2026-01-01T01:02:00Z')),
    ).toBe(at('2026-01-01T01:05:00Z'));
    expect(followingRun('once', '2026-01-01T00:00:00Z', 'UTC', 0, 1)).toBeNull();
  });
});

describe('wallTimeToEpoch', () => {
  it('handles the day clocks change', () => {
    // 2026-03-29 03:30 in Berlin is after the spring change (UTC+2).
    expect(wallTimeToEpoch(Date.UTC(2026, 2, 29, 3, 30), 'Europe/Berlin')).toBe(at('2026-03-29T01:30:00Z'));
  });
});
