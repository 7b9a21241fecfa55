/**
 * Logging to stderr: `log.info({ group }, 'Agent run finished')`. JSON lines when stderr is not a terminal
 * (or NANOCLAW_LOG_FORMAT=json), one readable line on a terminal. Callers never pass secrets in.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
type Fields = Record<string, unknown>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(fields: Fields, message: string): void;
  info(fields: Fields, message: string): void;
  warn(fields: Fields, message: string): void;
  error(fields: Fields, message: string): void;
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  format?: 'json' | 'pretty';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const envFormat = process.env.NANOCLAW_LOG_FORMAT;
  const format =
    options.format ??
    (envFormat === 'json' || envFormat === 'pretty'
      ? envFormat
      : options.write === undefined && process.stderr.isTTY
        ? 'pretty'
        : 'json');
  const render = format === 'pretty' ? prettyLine : jsonLine;
  const make = (bound: Fields): Logger => {
    const at = (level: Level) => (fields: Fields, message: string) => {
      if (ORDER[level] >= threshold) write(render(new Date(), level, message, { ...bound, ...fields }));
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

function plain(value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

function jsonLine(time: Date, level: Level, message: string, fields: Fields): string {
  const record: Fields = { time: time.toISOString(), level, message };
  for (const [key, value] of Object.entries(fields)) record[key] = plain(value);
  return `${JSON.stringify(record)}\n`;
}

function prettyLine(time: Date, level: Level, message: string, fields: Fields): string {
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const shown = plain(value);
      const text = typeof shown === 'string' ? shown : JSON.stringify(shown);
      return `${key}=${/[\s"=]/.test(text ?? '') ? JSON.stringify(text) : text}`;
    });
  const clock = time.toTimeString().slice(0, 8);
  return `${clock} ${level.toUpperCase().padEnd(5)} ${message}${pairs.length > 0 ? `  ${pairs.join(' ')}` : ''}\n`;
}

/** Drops everything: for tests that do not read logs. */
export const silentLogger: Logger = createLogger({ write: () => undefined, format: 'json' });
