import { expect, test } from 'vitest';
import type { TenantView } from './api-types.ts';
import { formatTenant } from './tenants.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const instance = {
  id: 'echo-1',
  workload: 'echo',
  version: '1b2c3d4e5f60',
  version_status: 'old' as const,
  phase: 'reserved' as const,
  tenant: 'alice',
  container_id: 'c1',
  endpoints: [{ port: 8080, url: 'http://127.0.0.1:40001' }],
  reason: null,
  created_at: new Date(NOW - 600_000).toISOString(),
  phase_changed_at: new Date(NOW - 60_000).toISOString(),
  claimed_at: new Date(NOW - 300_000).toISOString(),
  reserved_until: new Date(NOW + 540_000).toISOString(),
};

test('tenant show lists the upcoming wakes after the instances', () => {
  const view: TenantView = {
    tenant: 'alice',
    instances: [instance],
    wakes: [
      {
        workload: 'echo',
        tenant: 'alice',
        trigger: 'schedule',
        due_at: new Date(NOW + 90_000).toISOString(),
        set_at: new Date(NOW - 60_000).toISOString(),
      },
      {
        workload: 'echo',
        tenant: 'alice',
        trigger: 'every',
        due_at: new Date(NOW + 3_600_000).toISOString(),
        set_at: new Date(NOW - 60_000).toISOString(),
      },
    ],
  };
  const lines = formatTenant(view, NOW).split('\n');
  expect(lines[1]).toMatch(
    /^echo\s+echo-1\s+reserved\s+1b2c3d4e5f60 old\s+5m ago\s+-\s+in 9m\s+http:\/\/127\.0\.0\.1:40001\s+-$/,
  );
  expect(lines.slice(2, 5)).toEqual([
    '',
    'upcoming wakes:',
    expect.stringMatching(/^WORKLOAD\s+WAKE\s+DUE\s+IN$/),
  ]);
  expect(lines[5]).toMatch(/^echo\s+schedule \(its wake file\)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+in 1m30s$/);
  expect(lines[6]).toMatch(/^echo\s+every \(pool\.wake\.every\)\s+\S+ \S+\s+in 1h$/);
});

test('without wakes it is the instances alone', () => {
  expect(formatTenant({ tenant: 'bob', instances: [], wakes: [] }, NOW)).toBe(
    'tenant bob holds no instances\n',
  );
});
