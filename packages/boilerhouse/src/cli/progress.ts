/**
 * A progress line on stderr for slow requests (claim, release, apply, ...): nothing for the first second,
 * then a spinner with the elapsed seconds, erased when the work settles. Drawn only when stderr is a
 * terminal, so scripts and captured output never see it.
 */
import type { Io } from './io.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SHOW_AFTER_MS = 1000;
const FRAME_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

/** Resolves or rejects as `work` does; meanwhile shows `⠹ label... 3s` on a terminal. */
export async function withProgress<T>(io: Io, label: string, work: Promise<T>): Promise<T> {
  if (io.errIsTty !== true) return work;
  const started = performance.now();
  let frame = 0;
  let drawn = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const draw = () => {
    const seconds = Math.floor((performance.now() - started) / 1000);
    io.err(`${CLEAR_LINE}${FRAMES[frame++ % FRAMES.length]} ${label}... ${seconds}s`);
    drawn = true;
  };
  const delay = setTimeout(() => {
    draw();
    ticker = setInterval(draw, FRAME_MS);
  }, SHOW_AFTER_MS);
  try {
    return await work;
  } finally {
    clearTimeout(delay);
    clearInterval(ticker);
    if (drawn) io.err(CLEAR_LINE);
  }
}
