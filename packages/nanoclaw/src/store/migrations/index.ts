/** Numbered migrations, applied in order; `PRAGMA user_version` records how many ran. Never edit one. */
import initial from './001-initial.ts';
import usage from './002-usage.ts';

export const MIGRATIONS: readonly string[] = [initial, usage];
