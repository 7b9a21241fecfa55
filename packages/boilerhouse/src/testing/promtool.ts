/**
 * Prometheus's own linter over an exposition: `promtool check metrics`, from Debian's prometheus package
 * (scripts/setup.sh puts it in .data/tools; PROMTOOL names another).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROMTOOL =
  process.env.PROMTOOL ?? fileURLToPath(new URL('../../../../.data/tools/promtool', import.meta.url));

/** promtool's exit code and what it printed, for `exposition` on its standard input. */
export function promtoolCheck(exposition: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], (error, stdout, stderr) => {
      const code = error === null ? 0 : (error as NodeJS.ErrnoException & { code?: unknown }).code;
      if (typeof code !== 'number') reject(error);
      else resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(exposition);
  });
}
