import { expect, test } from 'vitest';
import { scheduleError } from './schedule.ts';

test.each([
  ['cron', '0 9 * * 1'],
  ['cron', '*/5 8-18 * JAN-MAR MON-FRI'],
  ['cron', '30 0 9 * * *'],
  ['interval', '3600000'],
  ['once', '2026-02-01T15:30:00'],
  ['once', '2026-02-01T15:30:00Z'],
] as const)('%s "%s" is accepted', (type, value) => {
  expect(scheduleError(type, value)).toBeNull();
});

test.each([
  ['cron', '0 9 * *', 'expected 5 fields'],
  ['cron', '0 9 * * 1 2 3', 'got 7'],
  ['cron', '0 9! * * 1', 'the hour field "9!" is not valid'],
  ['interval', '0', 'expected a positive whole number of milliseconds'],
  ['interval', '5m', 'interval "5m"'],
  ['once', 'tomorrow at 9', 'expected an ISO date and time'],
  ['once', '2026-13-45T99:00:00', 'once "2026-13-45T99:00:00"'],
] as const)('%s "%s" is refused: %s', (type, value, message) => {
  expect(scheduleError(type, value)).toContain(message);
});
