/** The health answer reader on floods and forgeries: what it keeps stays bounded, and it stops. */
import { expect, test } from 'vitest';
import { AnswerReader, HealthAnswerError, KEEP_BYTES, READ_LIMIT } from './health-answer.ts';

const MiB = 1024 * 1024;

test('reads an answer cut anywhere, skipping late answers to earlier requests', () => {
  const reader = new AnswerReader(7);
  const stream = Buffer.from('6 1 5\nstale7 0 9\nchecking\n8 0 2\nno');
  const results = [...stream].map((byte) => reader.push(Buffer.from([byte])));
  expect(results.filter((result) => result !== undefined)).toEqual([{ exitCode: 0, output: 'checking\n' }]);
});

test('says how much the gate dropped, and an answer without output completes with its header', () => {
  expect(new AnswerReader(3).push(Buffer.from('3 0 2 4094\nok'))).toEqual({
    exitCode: 0,
    output: '[4094 earlier bytes of output dropped]\nok',
  });
  expect(new AnswerReader(3).push(Buffer.from('3 124 0\n'))).toEqual({ exitCode: 124, output: '' });
});

test('an answer declaring more than the cap keeps the cap and counts the rest', () => {
  const reader = new AnswerReader(1);
  const declared = KEEP_BYTES + 300 * 1024;
  expect(reader.push(Buffer.from(`1 0 ${declared}\n`))).toBeUndefined();
  const chunk = Buffer.alloc(64 * 1024, 'y');
  let result: ReturnType<AnswerReader['push']>;
  for (let sent = 0; sent < declared; sent += chunk.length) {
    result = reader.push(chunk.subarray(0, Math.min(chunk.length, declared - sent)));
    expect(reader.heldBytes).toBeLessThanOrEqual(KEEP_BYTES + 80);
  }
  expect(result?.output.startsWith('y'.repeat(KEEP_BYTES))).toBe(true);
  expect(result?.output.slice(KEEP_BYTES)).toBe(`\n[${300 * 1024} more bytes of output dropped]`);
});

test('a flood declaring 200 MiB fails at the read limit, holding no more than the cap', () => {
  const reader = new AnswerReader(1);
  reader.push(Buffer.from(`1 0 ${200 * MiB}\n`));
  const chunk = Buffer.alloc(64 * 1024, 'y');
  let read = 0;
  let failure: unknown;
  try {
    for (; read < 200 * MiB; read += chunk.length) {
      reader.push(chunk);
      expect(reader.heldBytes).toBeLessThanOrEqual(KEEP_BYTES + 80);
    }
  } catch (error) {
    failure = error;
  }
  expect(failure).toBeInstanceOf(HealthAnswerError);
  expect(read).toBeLessThanOrEqual(READ_LIMIT);
});

test('bytes that are no header fail at once: zeros, lines of junk, a header too long', () => {
  expect(() => new AnswerReader(1).push(Buffer.alloc(64 * 1024))).toThrow(HealthAnswerError);
  expect(() => new AnswerReader(1).push(Buffer.from('y\ny\n'))).toThrow(/not an answer: "y"/);
  const reader = new AnswerReader(1);
  expect(reader.push(Buffer.from('1'.repeat(40)))).toBeUndefined();
  expect(() => reader.push(Buffer.from('1'.repeat(41)))).toThrow(/header too long/);
});
