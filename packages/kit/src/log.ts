/**
 * Logging to stderr, the daemon's and the NanoClaw host's alike: `log.info({ tenant }, 'Claimed')`. JSON
 * lines for machines (stderr is not a terminal, or the program's `*_LOG_FORMAT=json`); on a terminal (or
 * `*_LOG_FORMAT=pretty`) one readable line, `12:03:04.567 INFO  Claimed  tenant=alice`, coloured by
 * level. Secrets are never passed in. Not pino (in node_modules through Baileys): its lines differ
 * (numeric levels, `msg`, pid and hostname) from what the tests, the log sinks and operators read, and
 * its readable form is another package.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
type Fields = Record<string, unknown>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** ANSI colours per level; the rest of a pretty line stays plain but for dimmed keys. */
const COLOUR: Record<Level, string> = {
  debug: '\x1b[90m',
  info: '\x1b[36m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

export interface Logger {
  debug(fields: Fields, message: string): void;
  info(fields: Fields, message: string): void;
  warn(fields: Fields, message: string): void;
  error(fields: Fields, message: string): void;
  /** A logger that adds `fields` to every line (e.g. a request id). */
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  /** By default: the `formatVariable`, else pretty when stderr is a terminal (and `write` is not given). */
  format?: LogFormat;
  /** The environment variable that may choose the format (`BOILERHOUSE_LOG_FORMAT`); none by default. */
  formatVariable?: string;
  /** Colours in pretty lines; by default when stderr is a terminal and NO_COLOR is unset. */
  colour?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const terminal = options.write === undefined && process.stderr.isTTY === true;
  const chosen = options.formatVariable === undefined ? undefined : process.env[options.formatVariable];
  const format = options.format ?? formatFromEnv(chosen, terminal);
  const colour = options.colour ?? (terminal && process.env.NO_COLOR === undefined);
  const line = format === 'pretty' ? prettyLine(colour) : jsonLine;
  const make = (bound: Fields): Logger => {
    const at = (level: Level) => (fields: Fields, message: string) => {
      if (ORDER[level] < threshold) return;
      write(line(new Date(), level, message, { ...bound, ...fields }));
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

/** The format a `*_LOG_FORMAT` value asks for, else pretty on a terminal and JSON elsewhere. */
export function formatFromEnv(value: string | undefined, terminal: boolean): LogFormat {
  if (value === 'json' || value === 'pretty') return value;
  return terminal ? 'pretty' : 'json';
}

function jsonLine(time: Date, level: Level, message: string, fields: Fields): string {
  const record: Fields = { time: time.toISOString(), level, message };
  for (const [key, value] of Object.entries(fields)) {
    record[key] = value instanceof Error ? value.message : value;
  }
  return `${JSON.stringify(record)}\n`;
}

/** `HH:MM:SS.mmm LEVEL message  key=value ...`, local time; an error's stack follows at level error. */
function prettyLine(colour: boolean) {
  const paint = (code: string, text: string) => (colour ? `${code}${text}${RESET}` : text);
  return (time: Date, level: Level, message: string, fields: Fields): string => {
    const label = paint(COLOUR[level], level.toUpperCase().padEnd(5));
    const pairs: string[] = [];
    let stack: string | undefined;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      if (value instanceof Error && level === 'error') stack ??= value.stack;
      pairs.push(`${paint(DIM, `${key}=`)}${prettyValue(value)}`);
    }
    const text = level === 'error' || level === 'warn' ? paint(COLOUR[level], message) : message;
    const head = `${clock(time)} ${label} ${text}${pairs.length > 0 ? `  ${pairs.join(' ')}` : ''}`;
    const tail = stack === undefined ? '' : `\n${paint(DIM, indent(stack))}`;
    return `${head}${tail}\n`;
  };
}

function prettyValue(value: unknown): string {
  if (value instanceof Error) return quoteIfNeeded(value.message);
  if (typeof value === 'string') return quoteIfNeeded(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** Bare when it reads unambiguously (no spaces, quotes or `=`), JSON-quoted otherwise. */
function quoteIfNeeded(text: string): string {
  return text !== '' && !/[\s"=\\]/.test(text) ? text : JSON.stringify(text);
}

function clock(time: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, '0')}`;
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .map((line) => `    ${line.trim()}`)
    .join('\n');
}

/** A logger that drops everything, for tests that do not read logs. */
export const silentLogger: Logger = createLogger({ write: () => undefined });
