/**
 * Every file in test/malformed/ states the exact problems it must produce in `# expect:` lines
 * (`LINE:COL PATH: MESSAGE`), in the order they are reported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { formatProblem, loadWorkload } from './load.ts';
import { workloadEnvironment } from './workload-env.ts';

const folder = new URL('../test/malformed/', import.meta.url);
const files = readdirSync(folder).filter((name) => name.endsWith('.yaml'));
/** The daemon's environment the files are loaded in: one variable allowed (unset), secrets beside it. */
const env = workloadEnvironment({
  BOILERHOUSE_WORKLOAD_ENV: 'TEST_UNSET_TAG',
  BOILERHOUSE_API_KEY: 'admin-key',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
});

test('there are at least 20 malformed files', () => {
  expect(files.length).toBeGreaterThanOrEqual(20);
});

test.each(files)('%s', (name) => {
  const text = readFileSync(new URL(name, folder), 'utf8');
  const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((match) => `${name}:${match[1]}`);
  const result = loadWorkload(text, { file: name, env });
  expect(result.problems.map((problem) => formatProblem(name, problem))).toEqual(expected);
  expect(result.spec).toBeUndefined();
});
