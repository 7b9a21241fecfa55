/**
 * A first check of a task's schedule before it is sent, so the model hears about a typo at once instead of
 * the host silently refusing the request. The host still validates fully (and evaluates cron in its TZ).
 */
export type ScheduleType = 'cron' | 'interval' | 'once';

const CRON_FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'];
/** Numbers, names (MON, JAN), ranges, steps, lists, and the `* ? L W #` extensions cron-parser accepts. */
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;

/** Why `value` is not a valid schedule of `type`, or null when it is. */
export function scheduleError(type: ScheduleType, value: string): string | null {
  const trimmed = value.trim();
  if (type === 'cron') {
    const fields = trimmed.split(/\s+/);
    // Six fields means a leading seconds field.
    if (fields.length !== 5 && fields.length !== 6)
      return `cron "${value}": expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
    const names = fields.length === 6 ? ['second', ...CRON_FIELDS] : CRON_FIELDS;
    const bad = fields.findIndex((field) => !CRON_FIELD.test(field));
    return bad === -1 ? null : `cron "${value}": the ${names[bad]} field "${fields[bad]}" is not valid`;
  }
  if (type === 'interval') {
    return /^[1-9][0-9]*$/.test(trimmed)
      ? null
      : `interval "${value}": expected a positive whole number of milliseconds, e.g. "3600000" for an hour`;
  }
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(trimmed) && !Number.isNaN(Date.parse(trimmed))
    ? null
    : `once "${value}": expected an ISO date and time, e.g. "2026-02-01T15:30:00"`;
}
