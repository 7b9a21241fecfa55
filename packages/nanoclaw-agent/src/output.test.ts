import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import { type AgentOutput, formatFrame, OUTPUT_END, OUTPUT_START } from './frames.ts';
import { parseFrames, writeFrame } from './output.ts';

const success: AgentOutput = { status: 'success', result: 'line one\nline two', newSessionId: 'abc' };
const failure: AgentOutput = { status: 'error', result: null, error: 'model failed', newSessionId: null };

test('a frame is exactly three lines, whatever newlines the result holds', () => {
  const lines = formatFrame(success).split('\n');
  expect(lines).toEqual([OUTPUT_START, JSON.stringify(success), OUTPUT_END, '']);
});

test('frames are read back in order from between log lines', () => {
  const stdout = `starting\n${formatFrame(success)}some log\n${formatFrame(failure)}partial ${OUTPUT_START}\n`;
  expect(parseFrames(stdout)).toEqual([success, failure]);
});

test('an unfinished frame is not read yet', () => {
  const text = formatFrame(success);
  expect(parseFrames(text.slice(0, text.length - OUTPUT_END.length - 1))).toEqual([]);
});

test('a frame whose payload is not JSON is an error naming its line', () => {
  expect(() => parseFrames(`log\n${OUTPUT_START}\n{oops\n${OUTPUT_END}\n`)).toThrow(
    /line 3 is bad: not JSON/,
  );
});

test('a frame the host would refuse is an error too', () => {
  const frame = JSON.stringify({ status: 'done', result: 'hi' });
  expect(() => parseFrames(`${OUTPUT_START}\n${frame}\n${OUTPUT_END}\n`)).toThrow(
    /line 2 is bad: status must be "success" or "error"/,
  );
});

test('writeFrame resolves once the stream has taken the whole frame', async () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await writeFrame(failure, stream);
  expect(parseFrames(Buffer.concat(chunks).toString('utf8'))).toEqual([failure]);
});
