/**
 * Schedules with the answer both sides must give: the host's IPC handler and the agent's schedule_task
 * tool each run this table through their own entry point, so a schedule one side takes and the other
 * refuses fails a test. The edge inputs are the ones that once split them: intervals under 1 s (taken by
 * the agent only) and one-off times written with a space (taken by the host only).
 */
import type { ScheduleType } from '../schedule.ts';

export interface ScheduleCase {
  type: ScheduleType;
  value: string;
  /** Null when the schedule is valid; otherwise a part of the reason given. */
  refusal: string | null;
}

export const SCHEDULE_CASES: readonly ScheduleCase[] = [
  { type: 'cron', value: '0 9 * * 1', refusal: null },
  { type: 'cron', value: '*/5 8-18 * JAN-MAR MON-FRI', refusal: null },
  { type: 'cron', value: '30 0 9 * * *', refusal: null },
  { type: 'cron', value: '0 9 * * 1 2 3', refusal: 'too many fields' },
  { type: 'cron', value: '0 9! * * 1', refusal: 'is not a cron expression' },
  { type: 'cron', value: '99 * * * *', refusal: 'is not a cron expression' },
  { type: 'interval', value: '3600000', refusal: null },
  { type: 'interval', value: '1000', refusal: null },
  { type: 'interval', value: '999', refusal: 'at least 1000' },
  { type: 'interval', value: '1', refusal: 'at least 1000' },
  { type: 'interval', value: '0', refusal: 'at least 1000' },
  { type: 'interval', value: '5m', refusal: 'whole number of milliseconds' },
  { type: 'interval', value: '1.5e4', refusal: 'whole number of milliseconds' },
  { type: 'once', value: '2026-02-01T15:30:00', refusal: null },
  { type: 'once', value: '2026-02-01T15:30:00Z', refusal: null },
  { type: 'once', value: '2026-02-01T15:30:00+02:00', refusal: null },
  { type: 'once', value: '2026-02-01 15:30', refusal: null },
  { type: 'once', value: '2026-02-01 15:30:00.250', refusal: null },
  { type: 'once', value: 'tomorrow at 9', refusal: 'is not an ISO time' },
  { type: 'once', value: '2026-02-30T10:00:00', refusal: 'is not a real date and time' },
  { type: 'once', value: '2026-13-45T99:00:00', refusal: 'is not a real date and time' },
];
