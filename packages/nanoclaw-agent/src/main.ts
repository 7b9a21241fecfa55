/**
 * The agent container's entry point: reads the run's input from stdin, runs the agent over the first
 * prompt and every follow-up, writes one framed result per turn to stdout, and exits 0 when the run ended
 * normally (`_close` or idle) or 1 after an error frame. Log text goes to stderr only.
 */
import { join } from 'node:path';
import { runAgent } from './agent-run.ts';
import { watchFollowUps } from './follow-ups.ts';
import { parseInput } from './input.ts';
import { runMcp } from './mcp-servers.ts';
import { MessageQueue } from './message-queue.ts';
import { cliEnvironment, modelSocketError } from './model-bridge.ts';
import { writeFrame } from './output.ts';
import { startSocketBridge } from './socket-bridge.ts';
import { firstPrompt } from './system-prompt.ts';
import type { Turn } from './turn.ts';
import { workspacePaths } from './workspace.ts';

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

function log(message: string): void {
  process.stderr.write(`[nanoclaw-agent] ${message}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function idleTimeoutMs(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_IDLE_TIMEOUT_MS;
  if (!/^[1-9][0-9]*$/.test(value.trim()))
    throw new Error(`IDLE_TIMEOUT: expected a positive whole number of milliseconds, got "${value}"`);
  return Number(value);
}

/** Reports an error that ends the run, in a frame the host shows in the chat. */
async function fail(error: string): Promise<1> {
  log(error);
  await writeFrame({ status: 'error', result: null, error, newSessionId: null });
  return 1;
}

async function main(): Promise<0 | 1> {
  let input: ReturnType<typeof parseInput>;
  let idleTimeout: number;
  try {
    input = parseInput(await readStdin());
    idleTimeout = idleTimeoutMs(process.env.IDLE_TIMEOUT);
  } catch (error) {
    return fail((error as Error).message);
  }
  const paths = workspacePaths();
  const socketError = await modelSocketError(paths.modelSocket);
  if (socketError) return fail(socketError);
  const bridge = await startSocketBridge(paths.modelSocket, log);
  const mcp = await runMcp(input, paths, log);
  const queue = new MessageQueue<Turn>();
  const followUps = await watchFollowUps({
    inputDir: join(paths.ipc, 'input'),
    idleTimeoutMs: idleTimeout,
    onMessage: (turn) => queue.push(turn),
    onClose: (reason) => {
      log(reason === 'close' ? 'closing: the host sent _close' : `closing: idle for ${idleTimeout} ms`);
      queue.end();
    },
    log,
  });
  const { prompt } = input;
  log(
    `run for group ${input.group}: ${input.sessionId ? `resuming session ${input.sessionId}` : 'new session'}${prompt === null ? ', armed (its first turn comes as a follow-up)' : ''} (node up ${Math.round(performance.now())} ms)`,
  );
  // Armed: nothing to answer yet, so the idle clock runs from now.
  if (prompt === null) followUps.idle();
  const outcome = await runAgent(
    {
      input,
      paths,
      queue,
      emit: writeFrame,
      onIdle: () => followUps.idle(),
      log,
      env: cliEnvironment(process.env, bridge.url, input.modelToken),
      mcp,
    },
    prompt === null ? undefined : { text: firstPrompt({ ...input, prompt }), images: input.images ?? [] },
  );
  followUps.stop();
  bridge.close();
  mcp.close();
  log(`run ended (exit ${outcome.exitCode}), session ${outcome.sessionId ?? 'none'}`);
  return outcome.exitCode;
}

main().then(
  (code) => process.exit(code),
  async (error: Error) => {
    // A bug or an unexpected failure: still one clear frame for the host, the stack only in the log.
    log(error.stack ?? error.message);
    await writeFrame({
      status: 'error',
      result: null,
      error: `agent failure: ${error.message}`,
      newSessionId: null,
    });
    process.exit(1);
  },
);
