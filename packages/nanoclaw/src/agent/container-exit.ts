/**
 * When an agent container has exited, and with what code. The engine's wait answers that, but over a
 * connection that can be cut after its headers (under Boilerhouse the filtered socket goes away while
 * its daemon restarts), and then the wait never settles. So once the attach stream has ended, the wait
 * gets a grace period and then the container is asked directly, over new connections, until the answer
 * is certain. A container still running then has lost its output connection: nothing it says can be read
 * any more, so it is killed, and the run counts as failed (its messages are retried; none were answered).
 * Whether the connection was lost on the way is part of the answer (the wait failed, or did not answer
 * within the grace): a container waiting ahead of need that ended so says nothing about whether such
 * containers can wait (warm-agents.ts); one whose wait answered exited on its own.
 */
import { type Backoff, backoffDelay, sleep } from '@boilerhouse/kit/backoff';
import type { Logger } from '../log.ts';
import type { EngineContainer } from './engine.ts';

export interface ContainerExit {
  code: number | null;
  /** The wait failed or went silent, and the container had to be asked (and maybe killed). */
  connectionLost: boolean;
}

/** How long a wait may lag behind the end of the output before the container is asked directly. */
const WAIT_GRACE_MS = 2_000;
/** Asking again after a refused or failed question. */
const ASK_BACKOFF: Backoff = { firstMs: 250, longestMs: 5_000, jitter: 0.2 };
/** Beyond this the engine is taken to be gone for good; the exit code is unknown. */
const GIVE_UP_MS = 10 * 60_000;

export function containerExit(
  container: EngineContainer,
  outputEnded: Promise<void>,
  log: Logger,
  name: string,
): Promise<ContainerExit> {
  const waited = container.wait().then(
    (result) => ({ code: result.StatusCode ?? null, connectionLost: false }),
    () => askUntilExited(container, log, name),
  );
  const asked = outputEnded
    .then(() => new Promise((resolve) => setTimeout(resolve, WAIT_GRACE_MS).unref()))
    .then(() => askUntilExited(container, log, name));
  return Promise.race([waited, asked]);
}

/** Only ever asked when the wait's connection failed or went silent: the answer says the connection was lost. */
async function askUntilExited(container: EngineContainer, log: Logger, name: string): Promise<ContainerExit> {
  const began = Date.now();
  for (let attempt = 1; Date.now() - began < GIVE_UP_MS; attempt++) {
    try {
      const info = await container.inspect();
      if (!info.State.Running) return { code: info.State.ExitCode ?? null, connectionLost: true };
      log.warn({ container: name }, 'the agent container lost its output connection; stopping it');
      await container.kill();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return { code: null, connectionLost: true };
    }
    await sleep(backoffDelay(ASK_BACKOFF, attempt));
  }
  log.error({ container: name }, 'the engine did not answer about the agent container; giving up on it');
  return { code: null, connectionLost: true };
}
