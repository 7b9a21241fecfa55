/**
 * The exposition passes Prometheus's own linter, `promtool check metrics` (Debian's prometheus package;
 * scripts/setup.sh puts its promtool in .data/tools), with every kind of metric holding samples.
 */
import { afterEach, expect, test } from 'vitest';
import { counter, echoWorkload, type Harness, startHarness } from '../testing/harness.ts';
import { promtoolCheck } from '../testing/promtool.ts';
import { Metrics } from './metrics.ts';

let harness: Harness | undefined;
let metrics: Metrics | undefined;

afterEach(async () => {
  metrics?.close();
  await harness?.cleanup();
  harness = metrics = undefined;
});

test('issue 15: /metrics passes promtool check metrics', async () => {
  harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
  metrics = new Metrics(harness.boilerhouse);
  const claim = await harness.boilerhouse.claim('alice', 'echo');
  expect(await counter(claim.endpoints[0]?.url as string)).toBe(1);
  await harness.boilerhouse.release('alice', 'echo');
  metrics.observeHttp('GET', '/api/v1/pools', 200, 0.003);
  const { body } = await metrics.render();
  expect(body).toContain('boilerhouse_claim_duration_seconds_bucket');
  expect(await promtoolCheck(body)).toEqual({ code: 0, output: '' });
});
