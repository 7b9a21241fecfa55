/**
 * What is shown of usage, retries and failures: the JSON of `/health` and `GET /api/usage`, and the
 * main chat's `/usage` and `/failed` answers.
 */
import type { Config, UsageLimits } from '../config.ts';
import type { RunFailures } from '../store/run-failures.ts';
import { totalTokens, type UsageStore, type UsageTotals } from '../store/usage.ts';
import { NO_LIMITS, reachedLimit } from './limits.ts';
import { dayOf, periodDays } from './periods.ts';

export interface ReportDeps {
  usage: UsageStore;
  failures: RunFailures;
  config: Pick<Config, 'limits' | 'timezone'>;
  now(): number;
}

/** Usage in the wire's own words (snake_case), with the total that token limits count. */
function usageJson(totals: UsageTotals) {
  return {
    requests: totals.requests,
    errors: totals.errors,
    input_tokens: totals.inputTokens,
    output_tokens: totals.outputTokens,
    cache_creation_tokens: totals.cacheCreationTokens,
    cache_read_tokens: totals.cacheReadTokens,
    total_tokens: totalTokens(totals),
  };
}

function limitsJson(limits: UsageLimits) {
  const none = (value: number) => (value === 0 ? null : value);
  return {
    day_tokens: none(limits.dayTokens),
    day_requests: none(limits.dayRequests),
    month_tokens: none(limits.monthTokens),
    month_requests: none(limits.monthRequests),
  };
}

/** The instance's usage today and this month, retries today, messages given up on: part of /health. */
export function usageHealth(deps: ReportDeps) {
  const now = deps.now();
  const today = periodDays('day', now, deps.config.timezone);
  const month = periodDays('month', now, deps.config.timezone);
  const tenantOnly = { tenant: deps.config.limits.tenant, group: NO_LIMITS };
  const reached = reachedLimit(deps.usage, { timezone: deps.config.timezone, limits: tenantOnly }, '', now);
  return {
    usage: {
      day: today.from,
      today: usageJson(deps.usage.totals(today.from, today.to)),
      this_month: usageJson(deps.usage.totals(month.from, month.to)),
      tenant_limit_reached: reached?.key ?? null,
    },
    runs: {
      retries_today: deps.failures.retriesSince(today.from),
      failed_messages: deps.failures.failedCount(),
    },
  };
}

/** `GET /api/usage?days=N`: per day and group for the last N days (31 by default), totals and limits. */
export function usageRoute(deps: ReportDeps, days: number) {
  const now = deps.now();
  const from = dayOf(now - (days - 1) * 86_400_000, deps.config.timezone);
  return {
    timezone: deps.config.timezone,
    ...usageHealth(deps),
    limits: { tenant: limitsJson(deps.config.limits.tenant), group: limitsJson(deps.config.limits.group) },
    days: deps.usage.rows(from).map((row) => ({ day: row.day, group: row.group, ...usageJson(row) })),
    failed: deps.failures.recentFailed(20).map((failed) => ({
      chat_jid: failed.chatJid,
      group: failed.group,
      messages: failed.messages,
      attempts: failed.attempts,
      reason: failed.reason,
      failed_at: new Date(failed.failedAt).toISOString(),
    })),
  };
}

function usageLine(label: string, totals: UsageTotals): string {
  return `${label}: ${totals.requests} requests (${totals.errors} failed), ${totalTokens(totals)} tokens: ${totals.inputTokens} in, ${totals.outputTokens} out, ${totals.cacheCreationTokens} cache writes, ${totals.cacheReadTokens} cache reads`;
}

function limitsLine(label: string, limits: UsageLimits): string {
  const set = [
    limits.dayTokens && `${limits.dayTokens} tokens a day`,
    limits.dayRequests && `${limits.dayRequests} requests a day`,
    limits.monthTokens && `${limits.monthTokens} tokens a month`,
    limits.monthRequests && `${limits.monthRequests} requests a month`,
  ].filter((entry) => typeof entry === 'string');
  return `${label}: ${set.length === 0 ? 'none' : set.join(', ')}`;
}

/** The main chat's `/usage`: the instance today and this month, each group today, the limits. */
export function usageText(deps: ReportDeps): string {
  const now = deps.now();
  const today = periodDays('day', now, deps.config.timezone);
  const month = periodDays('month', now, deps.config.timezone);
  const groups = deps.usage.rows(today.from).map((row) => `- ${usageLine(row.group, row)}`);
  return [
    `Model usage (days in ${deps.config.timezone}):`,
    usageLine(`Today (${today.from})`, deps.usage.totals(today.from, today.to)),
    usageLine(`This month (${today.from.slice(0, 7)})`, deps.usage.totals(month.from, month.to)),
    ...(groups.length > 0 ? ['By group today:', ...groups] : []),
    limitsLine('Limits for the whole assistant', deps.config.limits.tenant),
    limitsLine('Limits for each group', deps.config.limits.group),
    `Retries today: ${deps.failures.retriesSince(today.from)}; messages given up on: ${deps.failures.failedCount()} (/failed)`,
  ].join('\n');
}

/** The main chat's `/failed`: the newest messages given up on. */
export function failedText(deps: ReportDeps): string {
  const failed = deps.failures.recentFailed(10);
  if (failed.length === 0) return 'No messages were given up on.';
  return [
    'Messages given up on (newest first; send them again to retry):',
    ...failed.map(
      (entry) =>
        `- ${new Date(entry.failedAt).toISOString()} ${entry.chatJid}: ${entry.messages} message(s) after ${entry.attempts} attempt(s): ${entry.reason}`,
    ),
  ].join('\n');
}
