import { expect, test } from 'vitest';
import { type AgentOutput, FrameParser, formatFrame, type ParsedOutput, parseOutput } from './frames.ts';

function read(chunks: string[]) {
  const outputs: ParsedOutput[] = [];
  const logs: string[] = [];
  const parser = new FrameParser({
    output: (output) => outputs.push(output),
    log: (line) => logs.push(line),
  });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return { outputs, logs };
}

const success: AgentOutput = { status: 'success', result: 'a\nb', newSessionId: 'abc' };
const failure: AgentOutput = { status: 'error', result: null, error: 'model failed', newSessionId: null };

test('what formatFrame writes, the parser reads back in any chunking, log lines apart', () => {
  const text = `starting\n${formatFrame(success)}some log\r\n${formatFrame(failure)}tail`;
  const whole = read([text]);
  expect(whole).toEqual({ outputs: [success, failure], logs: ['starting', 'some log', 'tail'] });
  expect(read(text.split(''))).toEqual(whole);
});

test('a frame the protocol does not allow is logged with why, not delivered', () => {
  const frame = '---NANOCLAW_OUTPUT_START---\n{"status":"done"}\n---NANOCLAW_OUTPUT_END---\n';
  expect(read([frame])).toEqual({
    outputs: [],
    logs: ['[host] bad output frame (status must be "success" or "error"): {"status":"done"}'],
  });
});

test('a frame not closed when the stream ends is logged', () => {
  expect(read(['---NANOCLAW_OUTPUT_START---\n{"status":']).logs).toEqual([
    '[host] output frame not closed before the stream ended: {"status":',
  ]);
});

test('a missing result or session id reads as null; a wrong type is refused', () => {
  expect(parseOutput('{"status":"success"}')).toEqual({
    status: 'success',
    result: null,
    newSessionId: null,
  });
  expect(parseOutput('{"status":"error","result":3}')).toBe('result must be a string or null');
  expect(parseOutput('{"status":"success","newSessionId":1}')).toBe('newSessionId must be a string or null');
  expect(parseOutput('[')).toBe('not JSON');
  expect(parseOutput('null')).toBe('not an object');
});
