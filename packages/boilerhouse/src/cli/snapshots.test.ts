import { expect, test } from 'vitest';
import { formatSnapshots } from './snapshots.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const save = (seq: number) => ({
  seq,
  created_at: new Date(NOW - seq * 60_000).toISOString(),
  instance: `echo-${seq}`,
  files: 1,
  bytes: 2048,
});

test('damaged saves and a damaged HEAD follow the table, each saying what is wrong', () => {
  const text = formatSnapshots(
    {
      tenant: 'alice',
      workload: 'echo',
      head: 1,
      saves: [save(1)],
      damaged: [
        { key: 'alice/echo/HEAD', reason: 'alice/echo/HEAD in local:/s is damaged: not a HEAD pointer' },
        { seq: 2, key: 'alice/echo/saves/000000000002.json', reason: 'torn\n  manifest' },
      ],
    },
    NOW,
  );
  const lines = text.split('\n');
  expect(lines[0]).toMatch(/^\s*SEQ\s+CREATED\s+AGE\s+INSTANCE\s+FILES\s+SIZE$/);
  expect(lines[1]).toMatch(/^\s*\*1\s.*1m ago\s+echo-1\s+1\s+2\.0 KiB$/);
  expect(lines.slice(2)).toEqual([
    'HEAD: damaged: alice/echo/HEAD in local:/s is damaged: not a HEAD pointer',
    'save 2: damaged: torn manifest',
    '',
  ]);
});

test('with only damaged saves the table says none can be read', () => {
  const damaged = [{ seq: 1, key: 'k', reason: 'missing' }];
  expect(formatSnapshots({ tenant: 'alice', workload: 'echo', head: null, saves: [], damaged }, NOW)).toBe(
    'tenant alice has no readable saves of echo\nsave 1: damaged: missing\n',
  );
  expect(
    formatSnapshots({ tenant: 'alice', workload: 'echo', head: null, saves: [], damaged: [] }, NOW),
  ).toBe('tenant alice has no saves of echo\n');
});
