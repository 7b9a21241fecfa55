/**
 * The usage meter on the scripted model server's own answers (the API's SSE and JSON shapes), cut into
 * pieces anywhere, as a socket may deliver them.
 */
import { describe, expect, it } from 'vitest';
import { assistantMessage, streamEvents } from '../../../nanoclaw-agent/src/testing/message-stream.ts';
import { UsageMeter } from './usage-meter.ts';

const request = { model: 'claude-test', messages: [{ role: 'user' as const, content: 'x'.repeat(400) }] };
const message = assistantMessage(request, [
  { type: 'text', text: 'y'.repeat(300) },
  { type: 'tool_use', name: 'Bash', input: { command: 'echo hi' } },
]);
const expected = {
  requests: 1,
  errors: 0,
  inputTokens: message.usage.input_tokens,
  outputTokens: message.usage.output_tokens,
  cacheCreationTokens: message.usage.cache_creation_input_tokens,
  cacheReadTokens: message.usage.cache_read_input_tokens,
};

describe('UsageMeter', () => {
  it('reads a stream cut into pieces of any size: message_start, then message_delta restating output', () => {
    const body = Buffer.from(streamEvents(message).join(''));
    for (const size of [1, 7, 64, body.length]) {
      const meter = new UsageMeter(200, 'text/event-stream; charset=utf-8');
      for (let at = 0; at < body.length; at += size) meter.write(body.subarray(at, at + size));
      expect(meter.finish(true)).toEqual(expected);
    }
  });

  it('reads a JSON answer, and counts a cut-off answer or an error status as an error', () => {
    const json = new UsageMeter(200, 'application/json');
    json.write(Buffer.from(JSON.stringify(message)));
    expect(json.finish(true)).toEqual(expected);
    const cut = new UsageMeter(200, 'text/event-stream');
    cut.write(Buffer.from(streamEvents(message)[0] as string));
    expect(cut.finish(false)).toMatchObject({ errors: 1, inputTokens: expected.inputTokens });
    const refused = new UsageMeter(429, 'application/json');
    refused.write(Buffer.from('{"type":"error","error":{"type":"rate_limit_error","message":"no"}}'));
    expect(refused.finish(true)).toEqual({
      ...expected,
      errors: 1,
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
    });
  });

  it('skips a line too long to carry usage without keeping it, and reads the events after it', () => {
    const meter = new UsageMeter(200, 'text/event-stream');
    const [start, ...rest] = streamEvents(message);
    meter.write(Buffer.from(start as string));
    meter.write(Buffer.from(`data: ${'z'.repeat(300_000)}`));
    meter.write(Buffer.from(`${'z'.repeat(300_000)}\n\n`));
    for (const event of rest) meter.write(Buffer.from(event));
    expect(meter.finish(true)).toEqual(expected);
  });
});
