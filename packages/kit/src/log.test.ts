import { describe, expect, test } from 'vitest';
import { createLogger, formatFromEnv, type LoggerOptions } from './log.ts';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...options, write: (line) => lines.push(line) });
  return { log, lines };
}

describe('JSON lines', () => {
  test('one object per line, with time, level, message, fields; errors as their message', () => {
    const { log, lines } = capture({ format: 'json' });
    log.warn({ tenant: 'alice', error: new Error('disk full') }, 'save failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const record = JSON.parse(lines[0] as string);
    expect(record).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'warn',
      message: 'save failed',
      tenant: 'alice',
      error: 'disk full',
    });
  });

  test('below the level, nothing is written', () => {
    const { log, lines } = capture({ format: 'json', level: 'info' });
    log.debug({}, 'hidden');
    log.info({}, 'shown');
    expect(lines.map((line) => JSON.parse(line).message)).toEqual(['shown']);
  });

  test('a child adds its fields to every line; a call can still override them', () => {
    const { log, lines } = capture({ format: 'json' });
    const request = log.child({ request: 'r-1' });
    request.info({ route: '/api/v1/pools' }, 'served');
    request.child({ tenant: 'bob' }).info({ request: 'r-2' }, 'nested');
    log.info({}, 'parent');
    expect(lines.map((line) => JSON.parse(line))).toMatchObject([
      { request: 'r-1', route: '/api/v1/pools', message: 'served' },
      { request: 'r-2', tenant: 'bob', message: 'nested' },
      { message: 'parent' },
    ]);
    expect(JSON.parse(lines[2] as string).request).toBeUndefined();
  });

  test('a custom writer gets JSON unless asked otherwise', () => {
    const { log, lines } = capture();
    log.info({}, 'hello');
    expect(JSON.parse(lines[0] as string).message).toBe('hello');
  });
});

describe('pretty lines', () => {
  test('time, padded level, message, then key=value pairs, quoted only when needed', () => {
    const { log, lines } = capture({ format: 'pretty', colour: false });
    log.info(
      { workload: 'echo', ms: 12.5, ok: true, reason: 'no room left', nested: { a: 1 }, none: undefined },
      'claimed',
    );
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}claimed {2}workload=echo ms=12.5 ok=true reason="no room left" nested=\{"a":1\}\n$/,
    );
  });

  test('warn carries the error message; error adds the stack on the lines after', () => {
    const { log, lines } = capture({ format: 'pretty', colour: false });
    log.warn({ error: new Error('slow disk') }, 'retrying');
    log.error({ error: new Error('gone') }, 'failed');
    expect(lines[0]).toMatch(/ WARN {2}retrying {2}error="slow disk"\n$/);
    expect(lines[0]?.split('\n')).toHaveLength(2);
    const [head, ...stack] = (lines[1] as string).trimEnd().split('\n');
    expect(head).toMatch(/ ERROR failed {2}error=gone$/);
    expect(stack[0]).toBe('    Error: gone');
    expect(stack[1]).toMatch(/^ {4}at /);
  });

  test('colour by level when asked', () => {
    const { log, lines } = capture({ format: 'pretty', colour: true });
    log.error({}, 'red');
    log.info({}, 'plain');
    expect(lines[0]).toContain('\x1b[31mERROR\x1b[0m');
    expect(lines[1]).toContain('\x1b[36mINFO \x1b[0m plain');
  });
});

test('a *_LOG_FORMAT value wins; otherwise pretty on a terminal, JSON elsewhere', () => {
  expect(formatFromEnv('json', true)).toBe('json');
  expect(formatFromEnv('pretty', false)).toBe('pretty');
  expect(formatFromEnv(undefined, true)).toBe('pretty');
  expect(formatFromEnv(undefined, false)).toBe('json');
  expect(formatFromEnv('yaml', false)).toBe('json');
});

test("the program's format variable chooses the format", () => {
  const lines: string[] = [];
  process.env.KIT_TEST_LOG_FORMAT = 'pretty';
  try {
    createLogger({
      formatVariable: 'KIT_TEST_LOG_FORMAT',
      colour: false,
      write: (line) => lines.push(line),
    }).info({}, 'hello');
  } finally {
    delete process.env.KIT_TEST_LOG_FORMAT;
  }
  expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}hello\n$/);
});
