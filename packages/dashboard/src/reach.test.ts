import { expect, test } from 'vitest';
import { reachText } from './reach.ts';

test("a token's reach reads as the page frame shows it", () => {
  expect(reachText({ tenants: null, workloads: null })).toBe('every tenant and workload');
  expect(reachText({ tenants: ['alice'], workloads: null })).toBe('only tenant alice');
  expect(reachText({ tenants: ['alice', 'bob'], workloads: ['echo'] })).toBe(
    'only tenants alice, bob and workload echo',
  );
  expect(reachText({ tenants: null, workloads: ['echo', 'vault'] })).toBe('only workloads echo, vault');
});
