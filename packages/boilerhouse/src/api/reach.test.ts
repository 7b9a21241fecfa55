/** The route declaration of reach: required of every route, and its fields must be ones the route takes. */
import { expect, test } from 'vitest';
import { checkLimitedByFields, describeReach } from './reach.ts';
import { route } from './route.ts';

test('a route that does not say how it is limited is a type error', () => {
  const described = {
    method: 'get',
    path: '/api/v1/example',
    tag: 'example',
    summary: 'An example',
    scope: 'read',
    responses: { 204: 'Nothing' },
    handle: (c: { body: (body: null, status: 204) => Response }) => c.body(null, 204),
  } as const;
  // @ts-expect-error: limitedBy is missing, so a new route cannot forget how a limited token is held.
  const forgotten = route(described);
  expect(forgotten.limitedBy).toBeUndefined();
  expect(route({ ...described, limitedBy: 'none' }).limitedBy).toBe('none');
});

test('a declared field the route does not take is refused as the app is built, naming it', () => {
  const takes = { params: ['tenant'], query: [], body: ['workload'] };
  expect(() =>
    checkLimitedByFields('POST /x/{tenant}', { tenant: 'path.tenant', workload: 'body.workload' }, takes),
  ).not.toThrow();
  expect(() =>
    checkLimitedByFields('POST /x/{tenant}', { tenant: 'path.tenant', workload: 'query.workload' }, takes),
  ).toThrow('POST /x/{tenant}: limitedBy names query.workload, which the route does not take');
  expect(() => checkLimitedByFields('GET /y', { instance: 'path.id' }, takes)).toThrow(
    'GET /y: limitedBy names path.id, which the route does not take',
  );
});

test('a limit reads as refusals name it', () => {
  expect(describeReach({ tenants: ['alice', 'bob'], workloads: ['echo'] })).toBe(
    'tenants alice, bob and workloads echo',
  );
  expect(describeReach({ tenants: null, workloads: ['echo'] })).toBe('workloads echo');
});
