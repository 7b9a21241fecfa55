/** JSON-lines logging to stderr: `log.info({ tenant }, 'Claimed')`. Secrets are never passed in. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export function createLogger(options: { level?: Level; write?: (line: string) => void } = {}): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const at = (level: Level) => (fields: Record<string, unknown>, message: string) => {
    if (ORDER[level] < threshold) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, message };
    for (const [key, value] of Object.entries(fields)) {
      record[key] = value instanceof Error ? value.message : value;
    }
    write(`${JSON.stringify(record)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything, for tests that do not read logs. */
export const silentLogger: Logger = createLogger({ write: () => undefined });
