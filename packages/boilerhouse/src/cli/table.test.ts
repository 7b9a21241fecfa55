import { expect, test } from 'vitest';
import { bytes, relativeTime, shortDuration } from './format.ts';
import { cellText, formatFields, formatTable } from './table.ts';

const columns = [
  { header: 'tenant', value: (row: { tenant: string; n: number; note?: string | null }) => row.tenant },
  { header: 'count', value: (row: { n: number }) => row.n },
  { header: 'note', value: (row: { note?: string | null }) => row.note },
];

test('columns line up under capitalised headers; numbers align right; the last column is not padded', () => {
  const text = formatTable(columns, [
    { tenant: 'alice', n: 3, note: 'first' },
    { tenant: 'bob-the-builder', n: 12, note: null },
  ]);
  expect(text).toBe(
    [
      'TENANT            COUNT   NOTE',
      'alice                 3   first',
      'bob-the-builder      12   -',
      '',
    ].join('\n'),
  );
});

test('no rows prints the empty text instead of a lone header', () => {
  expect(formatTable(columns, [], 'no tenants')).toBe('no tenants\n');
});

test('a cell is one line, and widths count characters rather than UTF-16 units', () => {
  const text = formatTable(
    [
      { header: 'name', value: (row: { name: string }) => row.name },
      { header: 'x', value: () => 'x' },
    ],
    [{ name: 'zoë' }, { name: 'multi\nline' }],
  );
  expect(text.split('\n')).toEqual(['NAME         X', 'zoë          x', 'multi line   x', '']);
});

test('cells: missing values are "-", booleans yes/no', () => {
  expect([null, undefined, '', true, false, 0].map(cellText)).toEqual(['-', '-', '-', 'yes', 'no', '0']);
});

test('fields line up after their keys', () => {
  expect(
    formatFields([
      ['tenant', 'alice'],
      ['endpoint', 'http://x'],
    ]),
  ).toBe('tenant:    alice\nendpoint:  http://x\n');
});

test('relative times and sizes', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  expect(relativeTime('2025-01-01T11:57:00Z', now)).toBe('3m ago');
  expect(relativeTime('2025-01-01T12:09:30Z', now)).toBe('in 9m30s');
  expect(relativeTime('2025-01-01T12:10:30Z', now)).toBe('in 10m');
  expect(relativeTime(null, now)).toBe('-');
  expect(shortDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d4h');
  expect(shortDuration(45_000)).toBe('45s');
  expect([0, 512, 1536, 20 * 1024 * 1024].map(bytes)).toEqual(['0 B', '512 B', '1.5 KiB', '20 MiB']);
});
