/**
 * A sink that hangs (accepts, then answers nothing) during a release: the release answers within its
 * time, saying the save goes on (outcome saving), rather than holding the caller for minutes; once the
 * sink answers again the save finishes, the instance is reserved, and the tenant's next claim sees all.
 */
import { afterEach, expect, test } from 'vitest';
import { testApi } from '../../packages/boilerhouse/src/testing/api.ts';
import {
  counter,
  type Harness,
  startHarness,
  waitFor,
} from '../../packages/boilerhouse/src/testing/harness.ts';
import { echoOnS3, S3_ENV } from './testing/echo-s3.ts';
import { type RestartableS3, startRestartableS3 } from './testing/s3.ts';
import { type StallingRelay, startStallingRelay } from './testing/stalling-relay.ts';

let harness: Harness | undefined;
let s3: RestartableS3 | undefined;
let relay: StallingRelay | undefined;

afterEach(async () => {
  relay?.flow();
  await harness?.cleanup();
  await relay?.close();
  await s3?.remove();
  harness = s3 = relay = undefined;
});

test('a release whose sink hangs answers in its time, and the save finishes once the sink answers', async () => {
  s3 = await startRestartableS3('faults-sink-hangs');
  relay = await startStallingRelay({ host: '127.0.0.1', port: s3.port });
  harness = await startHarness(
    {
      'echo.yaml': await echoOnS3(relay.endpoint, s3.bucket, {
        'min_idle: 2': 'min_idle: 0',
        'interval: 30s': 'interval: 1h',
      }),
    },
    { env: S3_ENV, intervals: { releaseAnswerMs: 1_000 } },
  );
  const api = testApi(harness);
  const claim = await harness.boilerhouse.claim('alice', 'echo');
  for (let i = 0; i < 3; i++) await counter(claim.endpoints[0]?.url as string);

  relay.stall();
  const answer = await api.request('/api/v1/tenants/alice/release', {
    method: 'POST',
    body: JSON.stringify({ workload: 'echo' }),
  });
  expect(answer.status).toBe(200);
  const body = await answer.json();
  expect(body.outcome).toBe('saving');
  expect(body.instance.phase).toBe('releasing');

  relay.flow();
  const reserved = await waitFor(
    () => harness?.boilerhouse.tenant('alice').instances.find((i) => i.phase === 'reserved'),
    60_000,
    'the save to finish and the instance to be reserved',
  );
  expect(reserved.reason).toBeNull();
  const again = await harness.boilerhouse.claim('alice', 'echo');
  expect(again.path).toBe('hit');
  expect(await counter(again.endpoints[0]?.url as string)).toBe(4);
});
