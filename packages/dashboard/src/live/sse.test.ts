import { expect, test } from 'vitest';
import { SseParser } from './sse.ts';

test('messages split across chunks, CRLF lines, multi-line data and keep-alive comments', () => {
  const parser = new SseParser();
  expect(parser.push('id: 7\ndata: {"a"')).toEqual([]);
  expect(parser.push(':1}\n\n: keep-alive\n\nid: 8\r\n')).toEqual([{ id: '7', data: '{"a":1}' }]);
  expect(parser.push('data: one\r\ndata: two\r\n\r\n')).toEqual([{ id: '8', data: 'one\ntwo' }]);
  expect(parser.push('data:no space\n\nretry: 5\n\n')).toEqual([{ id: undefined, data: 'no space' }]);
});
