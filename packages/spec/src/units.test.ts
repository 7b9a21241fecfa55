import { describe, expect, test } from 'vitest';
import { formatBytes, formatDuration, parseDuration, parseMemory, UnitError } from './units.ts';

describe('parseDuration', () => {
  test.each([
    ['500ms', 'ms', 500],
    ['30s', 'ms', 30_000],
    ['5m', 'ms', 300_000],
    ['1h', 'ms', 3_600_000],
    ['2d', 'ms', 172_800_000],
    ['1m30s', 'ms', 90_000],
    ['1h2m3s4ms', 'ms', 3_723_004],
    ['1.5s', 'ms', 1_500],
    ['0.25m', 's', 15_000],
    [' 10s ', 's', 10_000],
  ] as const)('%j with units ignores the bare unit (%s)', (input, bare, expected) => {
    expect(parseDuration(input, bare)).toBe(expected);
  });

  test.each([
    [30, 's', 30_000],
    [30, 'ms', 30],
    [0.5, 's', 500],
    [600000, 'ms', 600_000],
    ['45', 's', 45_000],
    ['45', 'ms', 45],
    ['2.5', 's', 2_500],
    [0, 's', 0],
  ] as const)('bare %j is in the field unit %s', (input, bare, expected) => {
    expect(parseDuration(input, bare)).toBe(expected);
  });

  test.each(
    ['', 'fast', '10', '10 s', '1m30', '30sec', '-5s', '5s1m', '1s1s', 's', '1.s'].filter((v) => v !== '10'),
  )('rejects %j', (input) => {
    expect(() => parseDuration(input, 'ms')).toThrow(UnitError);
  });

  test('rejects negative bare numbers', () => {
    expect(() => parseDuration(-1, 's')).toThrow('a duration cannot be negative');
  });
});

describe('parseMemory', () => {
  const MIB = 1024 * 1024;
  test.each([
    [512, 512 * MIB],
    [2048, 2048 * MIB],
    [0.5, 0.5 * MIB],
    ['256', 256 * MIB],
    ['512M', 512 * MIB],
    ['512m', 512 * MIB],
    ['256mb', 256 * MIB],
    ['256MiB', 256 * MIB],
    ['2G', 2048 * MIB],
    ['2gb', 2048 * MIB],
    ['1.5G', 1536 * MIB],
    ['1024k', MIB],
    ['1024KB', MIB],
    ['300b', 300],
    ['1T', 1024 * 1024 * MIB],
    ['64 M', 64 * MIB],
  ] as const)('%j is %d bytes', (input, expected) => {
    expect(parseMemory(input)).toBe(expected);
  });

  test.each(['', 'lots', '2X', 'G2', '2 GB extra', '-1G', '1e3M'])('rejects %j', (input) => {
    expect(() => parseMemory(input)).toThrow(UnitError);
  });
});

describe('formatting for messages', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [86_400_000 + 1, '1d1ms'],
  ])('formatDuration(%d) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test.each([
    [512 * 1024 * 1024, '512MiB'],
    [2 * 1024 ** 3, '2GiB'],
    [1536 * 1024, '1536KiB'],
    [1024 * 1024 + 1, '1.0MiB'],
    [300, '300B'],
    [4096, '4KiB'],
  ])('formatBytes(%d) = %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
