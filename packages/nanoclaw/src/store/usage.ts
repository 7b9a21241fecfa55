/**
 * Model usage, counted by the model proxy from the model's own answers: per group and per day (in the
 * host's time zone), one row each, added to as requests finish.
 */
import type { Database } from './database.ts';

/** What one or more model requests used. */
export interface UsageTotals {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

export interface UsageRow extends UsageTotals {
  day: string;
  group: string;
}

export const NO_USAGE: UsageTotals = {
  requests: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
};

/** Every token the model read or wrote: what a token limit counts. */
export function totalTokens(usage: UsageTotals): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheCreationTokens + usage.cacheReadTokens;
}

const SUMS = `SUM(requests) AS requests, SUM(errors) AS errors, SUM(input_tokens) AS inputTokens,
  SUM(output_tokens) AS outputTokens, SUM(cache_creation_tokens) AS cacheCreationTokens,
  SUM(cache_read_tokens) AS cacheReadTokens`;

export class UsageStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  add(day: string, group: string, usage: UsageTotals): void {
    this.#db
      .prepare(
        `INSERT INTO model_usage
           (day, group_folder, requests, errors, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, group_folder) DO UPDATE SET
           requests = requests + excluded.requests,
           errors = errors + excluded.errors,
           input_tokens = input_tokens + excluded.input_tokens,
           output_tokens = output_tokens + excluded.output_tokens,
           cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
           cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens`,
      )
      .run(
        day,
        group,
        usage.requests,
        usage.errors,
        usage.inputTokens,
        usage.outputTokens,
        usage.cacheCreationTokens,
        usage.cacheReadTokens,
      );
  }

  /**
   * Totals of days from `fromDay` to `toDay` (inclusive, YYYY-MM-DD), of one group or of all.
   * A month is `YYYY-MM-01` to `YYYY-MM-31`: the strings compare in calendar order.
   */
  totals(fromDay: string, toDay: string, group?: string): UsageTotals {
    const row = (
      group === undefined
        ? this.#db.prepare(`SELECT ${SUMS} FROM model_usage WHERE day BETWEEN ? AND ?`).get(fromDay, toDay)
        : this.#db
            .prepare(`SELECT ${SUMS} FROM model_usage WHERE day BETWEEN ? AND ? AND group_folder = ?`)
            .get(fromDay, toDay, group)
    ) as Record<keyof UsageTotals, number | null>;
    return {
      requests: row.requests ?? 0,
      errors: row.errors ?? 0,
      inputTokens: row.inputTokens ?? 0,
      outputTokens: row.outputTokens ?? 0,
      cacheCreationTokens: row.cacheCreationTokens ?? 0,
      cacheReadTokens: row.cacheReadTokens ?? 0,
    };
  }

  /** Per day and group, from `fromDay` on, newest day first. */
  rows(fromDay: string): UsageRow[] {
    return this.#db
      .prepare(
        `SELECT day, group_folder AS "group", requests, errors, input_tokens AS inputTokens,
           output_tokens AS outputTokens, cache_creation_tokens AS cacheCreationTokens,
           cache_read_tokens AS cacheReadTokens
         FROM model_usage WHERE day >= ? ORDER BY day DESC, group_folder`,
      )
      .all(fromDay) as unknown as UsageRow[];
  }
}
