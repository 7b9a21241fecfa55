/**
 * The model proxy over its real unix sockets, in front of the scripted model server on loopback (and a
 * plain upstream that streams on cue): run tokens checked per group, the real credential put on in their
 * place, everything else passed through as it comes.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServer, startModelServer } from '../../../nanoclaw-agent/src/testing/model-server.ts';
import { createLogger } from '../log.ts';
import { NO_USAGE, type UsageTotals } from '../store/usage.ts';
import { type HttpAnswer, readAnswer } from '../testing/http-answer.ts';
import { tempHome } from '../testing/temp-home.ts';
import { ModelProxy } from './model-proxy.ts';

const REAL_KEY = 'sk-ant-proxy-test-real-key-0123456789';
const logLines: string[] = [];
const log = createLogger({ write: (line) => logLines.push(line), level: 'debug', format: 'json' });
let home: Awaited<ReturnType<typeof tempHome>>;
let model: ModelServer;
let proxy: ModelProxy;
/** What the proxy counted, per group. */
const counted = new Map<string, UsageTotals>();
const socket = (group: string) => join(home.path, 'data', 'model', group, 'model.sock');

/** One request over a unix socket, the way the agent's bridge carries the CLI's. */
function ask(
  socketPath: string,
  options: { path?: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        socketPath,
        path: options.path ?? '/v1/messages?beta=true',
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
      },
      (response) => readAnswer(response).then(resolve, reject),
    );
    outgoing.on('error', reject);
    outgoing.end(
      options.body ??
        JSON.stringify({
          model: 'claude-test',
          max_tokens: 64,
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
    );
  });
}

beforeAll(async () => {
  home = await tempHome('nanoclaw-proxy-');
  model = await startModelServer(
    (body) => {
      const text = JSON.stringify(body.messages);
      if (text.includes('please-fail')) return { error: { status: 429, message: 'slow down, scripted' } };
      return [
        { type: 'text', text: 'streamed through the proxy' },
        { type: 'tool_use', name: 'Bash', input: { command: 'echo hi' } },
      ];
    },
    { host: '127.0.0.1' },
  );
  proxy = new ModelProxy({
    credential: { apiKey: REAL_KEY, authToken: undefined },
    endpoint: model.url,
    log,
    recordUsage: (group, usage) => {
      const before = counted.get(group) ?? NO_USAGE;
      counted.set(group, {
        requests: before.requests + usage.requests,
        errors: before.errors + usage.errors,
        inputTokens: before.inputTokens + usage.inputTokens,
        outputTokens: before.outputTokens + usage.outputTokens,
        cacheCreationTokens: before.cacheCreationTokens + usage.cacheCreationTokens,
        cacheReadTokens: before.cacheReadTokens + usage.cacheReadTokens,
      });
    },
  });
  await proxy.serveGroup('main', socket('main'));
  await proxy.serveGroup('family', socket('family'));
});

afterAll(async () => {
  await proxy?.close();
  await model?.close();
  await home?.remove();
});

describe('ModelProxy', () => {
  it('swaps a live run token for the real key and streams the reply (SSE, tool use) back intact', async () => {
    const token = proxy.issueToken('main');
    model.received.length = 0;
    const answer = await ask(socket('main'), {
      headers: {
        'x-api-key': token.value,
        'anthropic-version': '2023-06-01',
        connection: 'keep-alive, x-hop',
        'x-hop': 'dropped',
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    const events = [...answer.body.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(answer.body).toContain('streamed through the proxy');
    expect(answer.body).toContain('"type":"tool_use"');
    expect(answer.body).toContain('"stop_reason":"tool_use"');
    const seen = model.received.at(-1);
    expect(seen?.path).toBe('/v1/messages');
    expect(seen?.headers['x-api-key']).toBe(REAL_KEY);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen?.headers['x-hop']).toBeUndefined();
    token.revoke();
  });

  it('takes the token as Authorization: Bearer too', async () => {
    const token = proxy.issueToken('main');
    const answer = await ask(socket('main'), { headers: { authorization: `Bearer ${token.value}` } });
    expect(answer.status).toBe(200);
    expect(model.received.at(-1)?.headers['x-api-key']).toBe(REAL_KEY);
    token.revoke();
  });

  it("passes the endpoint's errors through: status and body", async () => {
    const token = proxy.issueToken('main');
    const answer = await ask(socket('main'), {
      headers: { 'x-api-key': token.value },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'please-fail' }],
      }),
    });
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.body)).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down, scripted' },
    });
    token.revoke();
  });

  it("answers 401 in the API's error shape to a wrong token, a revoked one and another group's", async () => {
    const ended = proxy.issueToken('main');
    ended.revoke();
    const family = proxy.issueToken('family');
    const before = model.received.length;
    for (const key of ['not-a-token', ended.value, family.value]) {
      const answer = await ask(socket('main'), { headers: { 'x-api-key': key } });
      expect(answer.status).toBe(401);
      const body = JSON.parse(answer.body);
      expect(body.type).toBe('error');
      expect(body.error.type).toBe('authentication_error');
      expect(body.error.message).toContain('not a live run token of group main');
    }
    expect((await ask(socket('main'), {})).status).toBe(401);
    // The family token is good on its own group's socket.
    expect((await ask(socket('family'), { headers: { 'x-api-key': family.value } })).status).toBe(200);
    expect(model.received.length).toBe(before + 1);
    family.revoke();
    expect(proxy.liveTokens).toBe(0);
  });

  it('forwards only the Messages API', async () => {
    const token = proxy.issueToken('main');
    const answer = await ask(socket('main'), {
      path: '/v1/organizations/api_keys',
      method: 'GET',
      headers: { 'x-api-key': token.value },
    });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).error.type).toBe('not_found_error');
    token.revoke();
  });

  it('answers 502 when the endpoint does not answer, and never logs the key', async () => {
    const down = new ModelProxy({
      credential: { apiKey: REAL_KEY, authToken: undefined },
      endpoint: 'http://127.0.0.1:1',
      log,
    });
    try {
      await down.serveGroup('main', join(home.path, 'down.sock'));
      const token = down.issueToken('main');
      const answer = await ask(join(home.path, 'down.sock'), { headers: { 'x-api-key': token.value } });
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body).error.message).toContain(
        'could not reach the model endpoint http://127.0.0.1:1',
      );
    } finally {
      await down.close();
    }
    expect(logLines.some((line) => line.includes('model request failed on its way'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(REAL_KEY);
  });
});

describe('ModelProxy usage', () => {
  it('counts each group what the model server reported, streamed and not, and an error as an error', async () => {
    const family = proxy.issueToken('family');
    counted.delete('family');
    const reportedBefore = model.usage.length;
    const asks = [
      { stream: true, content: 'a streamed tool-use turn' },
      { stream: false, content: 'a whole JSON answer' },
      { stream: true, content: 'please-fail' },
    ];
    for (const { stream, content } of asks) {
      await ask(socket('family'), {
        headers: { 'x-api-key': family.value },
        body: JSON.stringify({
          model: 'claude-test',
          max_tokens: 64,
          stream,
          messages: [{ role: 'user', content }],
        }),
      });
    }
    await ask(socket('family'), {
      path: '/v1/messages/count_tokens',
      headers: { 'x-api-key': family.value },
      body: JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: 'free' }] }),
    });
    family.revoke();
    const reported = model.usage.slice(reportedBefore);
    expect(reported).toHaveLength(2);
    const sum = (field: keyof (typeof reported)[number]) =>
      reported.reduce((total, usage) => total + usage[field], 0);
    expect(counted.get('family')).toEqual({
      requests: 3,
      errors: 1,
      inputTokens: sum('input_tokens'),
      outputTokens: sum('output_tokens'),
      cacheCreationTokens: sum('cache_creation_input_tokens'),
      cacheReadTokens: sum('cache_read_input_tokens'),
    });
    expect(sum('cache_read_input_tokens')).toBeGreaterThan(0);
  });
});

describe('ModelProxy with an OAuth-style token and an endpoint that streams on cue', () => {
  let upstream: Server;
  let seenAuthorization: string | undefined;
  let seenPath: string | undefined;
  let next: () => void = () => undefined;

  beforeAll(async () => {
    upstream = createServer((incoming, response) => {
      seenAuthorization = incoming.headers.authorization;
      seenPath = incoming.url;
      incoming.resume();
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('event: one\ndata: {}\n\n');
      // The second event only once the client has the first: nothing waits for the whole body.
      next = () => response.end('event: two\ndata: {}\n\n');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('sends Authorization: Bearer with the real token, and each event as it comes', async () => {
    const endpoint = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/gateway`;
    const bearer = new ModelProxy({
      credential: { apiKey: undefined, authToken: 'oauth-real-token' },
      endpoint,
      log,
    });
    const path = join(home.path, 'bearer.sock');
    try {
      await bearer.serveGroup('main', path);
      const token = bearer.issueToken('main');
      const events = await new Promise<string[]>((resolve, reject) => {
        const received: string[] = [];
        const outgoing = request(
          { socketPath: path, path: '/v1/messages', method: 'POST', headers: { 'x-api-key': token.value } },
          (response) => {
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              received.push(chunk);
              if (chunk.includes('event: one')) next();
            });
            response.on('end', () => resolve(received));
            response.on('error', reject);
          },
        );
        outgoing.on('error', reject);
        outgoing.end('{}');
      });
      expect(events.join('')).toBe('event: one\ndata: {}\n\nevent: two\ndata: {}\n\n');
      expect(seenAuthorization).toBe('Bearer oauth-real-token');
      expect(seenPath).toBe('/gateway/v1/messages');
    } finally {
      await bearer.close();
    }
    expect(logLines.join('\n')).not.toContain('oauth-real-token');
  });
});
