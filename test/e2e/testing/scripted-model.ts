/**
 * One scripted model server for a whole test file: each test adds scripts keyed by a marker word in the
 * newest user prompt, so tests never answer each other's turns.
 */
import {
  type MessagesRequest,
  type ModelServer,
  type ScriptedReply,
  startModelServer,
} from '../../../packages/nanoclaw-agent/src/testing/model-server.ts';
import {
  lastUserText,
  toolResults,
  toolResultText,
  userPrompts,
} from '../../../packages/nanoclaw-agent/src/testing/requests.ts';

type Script = (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply> | undefined;

export interface ScriptedModel {
  server: ModelServer;
  /**
   * Answers turns whose newest prompt contains `marker` with `first()`; once the tools it asked for ran,
   * with `after(results)` (default: "done").
   */
  on(
    marker: string,
    first: (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply>,
    after?: (results: string[]) => ScriptedReply,
  ): void;
  /** The requests whose newest prompt contains `marker`. */
  requestsFor(marker: string): MessagesRequest[];
  close(): Promise<void>;
}

export async function startScriptedModel(): Promise<ScriptedModel> {
  const scripts: Script[] = [];
  const server = await startModelServer(async (request) => {
    for (const script of scripts) {
      const reply = await script(request);
      if (reply !== undefined) return reply;
    }
    return [{ type: 'text', text: `no script for: ${lastUserText(request).slice(-200)}` }];
  });
  const newestPrompt = (request: MessagesRequest) => userPrompts(request).at(-1) ?? '';
  return {
    server,
    on(marker, first, after) {
      scripts.push((request) => {
        if (!newestPrompt(request).includes(marker)) return undefined;
        const results = toolResults(request);
        if (results.length > 0)
          return after?.(results.map(toolResultText)) ?? [{ type: 'text', text: 'done' }];
        return first(request);
      });
    },
    requestsFor: (marker) => server.requests.filter((request) => newestPrompt(request).includes(marker)),
    close: () => server.close(),
  };
}
