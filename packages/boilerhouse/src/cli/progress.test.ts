import { afterEach, expect, test, vi } from 'vitest';
import type { Io } from './io.ts';
import { withProgress } from './progress.ts';

afterEach(() => {
  vi.useRealTimers();
});

function io(errIsTty: boolean): Io & { written: string[] } {
  const written: string[] = [];
  return { out: () => undefined, err: (text) => written.push(text), env: {}, errIsTty, written };
}

test('on a terminal: nothing for the first second, then a spinner with seconds, erased at the end', async () => {
  vi.useFakeTimers();
  const terminal = io(true);
  let finish: (value: string) => void = () => undefined;
  const work = withProgress(
    terminal,
    'claiming echo for alice',
    new Promise<string>((resolve) => (finish = resolve)),
  );
  await vi.advanceTimersByTimeAsync(900);
  expect(terminal.written).toEqual([]);
  await vi.advanceTimersByTimeAsync(1300);
  expect(terminal.written[0]).toBe('\r\x1b[2K⠋ claiming echo for alice... 1s');
  const latest = terminal.written.at(-1) as string;
  expect(latest.startsWith('\r\x1b[2K')).toBe(true);
  expect(latest.endsWith(' claiming echo for alice... 2s')).toBe(true);
  finish('done');
  expect(await work).toBe('done');
  expect(terminal.written.at(-1)).toBe('\r\x1b[2K');
});

test('quick work and captured stderr draw nothing; failures pass through', async () => {
  const terminal = io(true);
  expect(await withProgress(terminal, 'x', Promise.resolve(1))).toBe(1);
  const captured = io(false);
  await expect(withProgress(captured, 'x', Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect([...terminal.written, ...captured.written]).toEqual([]);
});
