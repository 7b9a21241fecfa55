/**
 * What a task schedule is and when it runs next, in the configured time zone: the one definition the host
 * (which stores and fires tasks) and the agent (whose tools check a schedule before sending it) share, so
 * that no schedule is accepted by one and refused by the other. `cron`: a cron expression; `interval`: every N ms
 * (at least 1 s), kept on its grid (start + k x N) so it does not drift; `once`: an ISO time, with an offset
 * or `Z`, or without one read as wall-clock time in the time zone.
 *
 * Missed runs (the host was down): a task whose time passed runs once when the host is back, then keeps to
 * its schedule from now on; the runs missed in between are not made up.
 */
import { CronExpressionParser } from 'cron-parser';

export const SCHEDULE_TYPES = ['cron', 'interval', 'once'] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];

export const MIN_INTERVAL_MS = 1000;

/** Why `value` is not a schedule of `type`, or null when it is one. */
export function scheduleProblem(type: ScheduleType, value: string, timezone: string): string | null {
  const next = firstRun(type, value, timezone, Date.now());
  return typeof next === 'string' ? next : null;
}

/** The first run of a new schedule, or a message saying what is wrong with it. */
export function firstRun(type: ScheduleType, value: string, timezone: string, now: number): number | string {
  switch (type) {
    case 'cron':
      return nextCron(value, timezone, now);
    case 'interval': {
      const interval = parseInterval(value);
      return typeof interval === 'string' ? interval : now + interval;
    }
    case 'once':
      return parseOnce(value, timezone);
    default:
      return `schedule_type must be cron, interval or once, got "${String(type)}"`;
  }
}

/** The run after the one due at `scheduledFor`, strictly after `now`; null when there is none (once). */
export function followingRun(
  type: ScheduleType,
  value: string,
  timezone: string,
  scheduledFor: number,
  now: number,
): number | null {
  if (type === 'once') return null;
  if (type === 'cron') {
    const next = nextCron(value, timezone, now);
    if (typeof next === 'string') throw new Error(next);
    return next;
  }
  const interval = parseInterval(value);
  if (typeof interval === 'string') throw new Error(interval);
  const steps = Math.floor((now - scheduledFor) / interval) + 1;
  return scheduledFor + Math.max(1, steps) * interval;
}

function nextCron(expression: string, timezone: string, after: number): number | string {
  if (expression.trim().split(/\s+/).length > 6)
    return `"${expression}" is not a cron expression (too many fields)`;
  try {
    return CronExpressionParser.parse(expression, {
      currentDate: new Date(after),
      tz: timezone,
      strict: false,
    })
      .next()
      .getTime();
  } catch (error) {
    return `"${expression}" is not a cron expression: ${(error as Error).message}`;
  }
}

function parseInterval(value: string): number | string {
  const interval = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(interval) || interval < MIN_INTERVAL_MS) {
    return `interval "${value}" must be a whole number of milliseconds, at least ${MIN_INTERVAL_MS}`;
  }
  return interval;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function parseOnce(value: string, timezone: string): number | string {
  const match = ISO.exec(value.trim());
  if (match === null) return `"${value}" is not an ISO time such as 2026-02-01T15:30:00`;
  const [, year, month, day, hour, minute, second = '0', millis = '0', zone] = match;
  const parts = [year, month, day, hour, minute, second, millis.padEnd(3, '0')].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], parts[6]);
  const check = new Date(wall);
  if (check.getUTCMonth() !== parts[1] - 1 || check.getUTCDate() !== parts[2] || parts[3] > 23) {
    return `"${value}" is not a real date and time`;
  }
  if (zone !== undefined) {
    if (zone.toUpperCase() === 'Z') return wall;
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return wallTimeToEpoch(wall, timezone);
}

/** The instant at which clocks in `timezone` show the wall time `wall` (given as if it were UTC). */
export function wallTimeToEpoch(wall: number, timezone: string): number {
  // The zone's offset at a guess, then at the corrected guess (right across DST changes).
  let guess = wall - offsetAt(wall, timezone);
  guess = wall - offsetAt(guess, timezone);
  return guess;
}

/** The zone's offset from UTC at `instant`, ms (positive east of Greenwich). */
function offsetAt(instant: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const asUtc = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}
