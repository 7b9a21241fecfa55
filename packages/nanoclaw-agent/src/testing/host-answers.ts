/**
 * Plays the host's side of responses/ (AGENT-PROTOCOL.md, "Answers") for tests of the agent without a
 * host: each request file that appears in messages/ or tasks/ is answered once, with `answer(request)`
 * (undefined: not answered), and left in place for the test to read.
 */
import { chown, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { answerFileName, type HostAnswer, RESPONSES_DIR } from '../ipc-answers.ts';
import { IPC_KINDS } from '../ipc-requests.ts';

export type Answerer = (request: Record<string, unknown>) => HostAnswer | undefined;

/** Answers until the returned function is called. */
export function answerRequests(ipcDir: string, answer: () => Answerer | undefined): () => Promise<void> {
  const answered = new Set<string>();
  const responses = join(ipcDir, RESPONSES_DIR);
  const once = async () => {
    await mkdir(responses, { recursive: true });
    // The agent, uid 1000, removes the answers it read.
    if (process.getuid?.() === 0) await chown(responses, 1000, 1000);
    for (const kind of IPC_KINDS) {
      const names = await readdir(join(ipcDir, kind)).catch(() => [] as string[]);
      for (const name of names.filter((entry) => entry.endsWith('.json') && !answered.has(entry))) {
        const request = JSON.parse(await readFile(join(ipcDir, kind, name), 'utf8'));
        const reply = answer()?.(request);
        if (reply === undefined) continue;
        answered.add(name);
        const target = join(responses, answerFileName(name));
        await writeFile(`${target}.tmp`, JSON.stringify(reply));
        await rename(`${target}.tmp`, target);
      }
    }
  };
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(once);
  }, 10);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
