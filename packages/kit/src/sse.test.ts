import { expect, test } from 'vitest';
import { readSse, SseParser } from './sse.ts';

test('messages split anywhere, CRLF or LF, comments and multi-line data', () => {
  const parser = new SseParser();
  const text =
    ': keep-alive\r\n\r\nid: 1\r\ndata: {"a":1}\r\n\r\nid: 2\ndata: x\ndata: y\nretry: 5\n\nevent: message\ndata: z\r\r\n';
  const messages = [...text].flatMap((char) => parser.push(char));
  expect(messages).toEqual([
    { id: '1', event: undefined, data: '{"a":1}' },
    { id: '2', event: undefined, data: 'x\ny' },
    { id: undefined, event: 'message', data: 'z' },
  ]);
});

test('messages split across chunks; an id is the message’s own; a data field without its space', () => {
  const parser = new SseParser();
  expect(parser.push('id: 7\ndata: {"a"')).toEqual([]);
  expect(parser.push(':1}\n\n: keep-alive\n\nid: 8\r\n')).toEqual([{ id: '7', data: '{"a":1}' }]);
  expect(parser.push('data: one\r\ndata: two\r\n\r\n')).toEqual([{ id: '8', data: 'one\ntwo' }]);
  expect(parser.push('data:no space\n\nretry: 5\n\n')).toEqual([{ id: undefined, data: 'no space' }]);
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

test('leaving readSse early cancels the body', async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('data: 1\n\ndata: 2\n\n'));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const message of readSse(body)) if (message.data === '1') break;
  expect(cancelled).toBe(true);
});
