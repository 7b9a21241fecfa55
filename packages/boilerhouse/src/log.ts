/** The daemon's logger: @boilerhouse/kit/log, its format chosen by BOILERHOUSE_LOG_FORMAT. */
import { createLogger as kitLogger, type Logger, type LoggerOptions } from '@boilerhouse/kit/log';

export { type Level, type Logger, type LoggerOptions, silentLogger } from '@boilerhouse/kit/log';

export function createLogger(options: LoggerOptions = {}): Logger {
  return kitLogger({ formatVariable: 'BOILERHOUSE_LOG_FORMAT', ...options });
}
