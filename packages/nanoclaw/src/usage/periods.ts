/**
 * Days and months of usage in the host's time zone (TZ): the keys usage is stored under, and when the
 * current period ends (its limits reset then).
 */
import { followingRun } from '@boilerhouse/nanoclaw-schedule';

export type Period = 'day' | 'month';

/** `YYYY-MM-DD` of the instant in the time zone. */
export function dayOf(at: number, timezone: string): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** The first and last day keys of the period holding `at` (a month's last key is its day 31: keys compare as text). */
export function periodDays(period: Period, at: number, timezone: string): { from: string; to: string } {
  const day = dayOf(at, timezone);
  return period === 'day'
    ? { from: day, to: day }
    : { from: `${day.slice(0, 7)}-01`, to: `${day.slice(0, 7)}-31` };
}

/** The key of the period holding `at`: `2026-03-01` for a day, `2026-03` for a month. */
export function periodKey(period: Period, at: number, timezone: string): string {
  const day = dayOf(at, timezone);
  return period === 'day' ? day : day.slice(0, 7);
}

/** When the period holding `at` ends: the next midnight, or the first of the next month, in the time zone. */
export function periodEnd(period: Period, at: number, timezone: string): number {
  const cron = period === 'day' ? '0 0 * * *' : '0 0 1 * *';
  return followingRun('cron', cron, timezone, at, at) as number;
}
