import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { renderWorkloadJsonSchema, workloadJsonSchema } from './json-schema.ts';

const repoFile = (path: string) => readFileSync(new URL(`../../../../${path}`, import.meta.url), 'utf8');

test('the committed workload.schema.json is up to date (regenerate with `npm run schema`)', () => {
  expect(repoFile('packages/spec/workload.schema.json')).toBe(renderWorkloadJsonSchema());
});

const validate = new Ajv({ strict: true, allowMatchingProperties: true }).compile(workloadJsonSchema());

test.each(['workloads/nanoclaw.yaml', 'workloads/echo.yaml'])('editors accept %s', (file) => {
  expect(validate(parse(repoFile(file))), JSON.stringify(validate.errors)).toBe(true);
});

test.each([
  ['an unknown key', { id: 'x', image: 'i', imgae: 'i' }],
  ['a refused key', { id: 'x', image: 'i', cap_add: ['NET_ADMIN'] }],
  ['a bad duration', { id: 'x', image: 'i', pool: { affinity_timeout: '5 minutes' } }],
  ['a bad choice', { id: 'x', image: 'i', pool: { reserve: 'freeze' } }],
  ['a missing image', { id: 'x' }],
  ['an unknown sink type', { id: 'x', image: 'i', sync: { sink: { type: 'gcs' } } }],
])('editors flag %s', (_, workload) => {
  expect(validate(workload)).toBe(false);
});

test('bare-number units are stated in the schema', () => {
  const text = renderWorkloadJsonSchema();
  expect(text).toContain('a bare number of seconds');
  expect(text).toContain('a bare number of milliseconds');
  expect(text).toContain('a bare number of MiB');
});
