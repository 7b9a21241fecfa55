/**
 * The usage limits (config.ts `limits`): per day or month, in tokens or requests, for the whole instance
 * and for each group. A limit is reached once usage in its period is at or over it; it resets when the
 * period ends (midnight, or the first of the month, in the host's time zone).
 */
import type { Config, UsageLimits } from '../config.ts';
import { totalTokens, type UsageStore } from '../store/usage.ts';
import { type Period, periodDays, periodEnd, periodKey } from './periods.ts';

export interface LimitReached {
  scope: 'tenant' | 'group';
  period: Period;
  measure: 'tokens' | 'requests';
  used: number;
  limit: number;
  /** Names the limit and its period (e.g. `group:main:day:tokens:2026-03-01`): a chat is told once per key. */
  key: string;
  resetsAt: number;
}

export const NO_LIMITS: UsageLimits = { dayTokens: 0, dayRequests: 0, monthTokens: 0, monthRequests: 0 };

const CHECKS: Array<{ period: Period; measure: 'tokens' | 'requests'; limit: keyof UsageLimits }> = [
  { period: 'day', measure: 'tokens', limit: 'dayTokens' },
  { period: 'day', measure: 'requests', limit: 'dayRequests' },
  { period: 'month', measure: 'tokens', limit: 'monthTokens' },
  { period: 'month', measure: 'requests', limit: 'monthRequests' },
];

/** The first limit reached for a run of `group` now, or undefined when it may run. */
export function reachedLimit(
  usage: UsageStore,
  config: Pick<Config, 'limits' | 'timezone'>,
  group: string,
  now: number,
): LimitReached | undefined {
  for (const scope of ['tenant', 'group'] as const) {
    const limits = config.limits[scope];
    for (const check of CHECKS) {
      const limit = limits[check.limit];
      if (limit === 0) continue;
      const { from, to } = periodDays(check.period, now, config.timezone);
      const totals = usage.totals(from, to, scope === 'group' ? group : undefined);
      const used = check.measure === 'tokens' ? totalTokens(totals) : totals.requests;
      if (used < limit) continue;
      const owner = scope === 'group' ? `group:${group}` : 'tenant';
      return {
        scope,
        period: check.period,
        measure: check.measure,
        used,
        limit,
        key: `${owner}:${check.period}:${check.measure}:${periodKey(check.period, now, config.timezone)}`,
        resetsAt: periodEnd(check.period, now, config.timezone),
      };
    }
  }
  return undefined;
}

/** What the chat is told, once, when a limit stops the assistant. */
export function limitMessage(reached: LimitReached, timezone: string): string {
  const whose = reached.scope === 'group' ? "this chat's" : "this assistant's";
  const period = reached.period === 'day' ? 'daily' : 'monthly';
  const resets = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(reached.resetsAt);
  return `I have reached ${whose} ${period} limit of ${reached.limit} model ${reached.measure} (${reached.used} used), so I will not answer until it resets on ${resets} (${timezone}). Messages sent until then are not answered.`;
}
