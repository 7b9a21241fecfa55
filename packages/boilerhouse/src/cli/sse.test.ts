import { expect, test } from 'vitest';
import { readSse, SseParser } from './sse.ts';

test('messages split anywhere, CRLF or LF, comments and multi-line data', () => {
  const parser = new SseParser();
  const text = ': keep-alive\r\n\r\nid: 1\r\ndata: {"a":1}\r\n\r\nid: 2\ndata: x\ndata: y\nretry: 5\n\n';
  const messages = [...text].flatMap((char) => parser.push(char));
  expect(messages).toEqual([
    { id: '1', data: '{"a":1}' },
    { id: '2', data: 'x\ny' },
  ]);
});

test('readSse decodes a byte stream, including characters split across chunks', async () => {
  const bytes = new TextEncoder().encode('id: 7\ndata: "zoë"\n\n');
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, 17));
      controller.enqueue(bytes.slice(17));
      controller.close();
    },
  });
  const messages = [];
  for await (const message of readSse(body)) messages.push(message);
  expect(messages).toEqual([{ id: '7', data: '"zoë"' }]);
});
