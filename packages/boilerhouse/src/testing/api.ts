/** The HTTP API of a test harness, called through `app.request()` with the admin key (auth is on). */
import { randomBytes } from 'node:crypto';
import { createApp } from '../api/app.ts';
import { Auth } from '../api/auth.ts';
import { hashSecret } from '../db/tokens.ts';
import { silentLogger } from '../log.ts';
import { echoWorkload, type Harness, startHarness } from './harness.ts';

/** A response whose JSON body tests read freely. */
export interface TestResponse extends Response {
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the shape of arbitrary JSON bodies.
  json(): Promise<any>;
}

export interface TestApi {
  /** The admin key this app accepts. */
  key: string;
  /** As `app.request`, with `Authorization: Bearer <key>` and a JSON content type unless given. */
  request(path: string, init?: RequestInit): Promise<TestResponse>;
  /** As `app.request`, headers exactly as given (for auth tests). */
  raw(path: string, init?: RequestInit): Promise<TestResponse>;
}

export function testApi(harness: Harness, options: { maxBodyBytes?: number } = {}): TestApi {
  const key = randomBytes(24).toString('base64url');
  const app = createApp(harness.boilerhouse, {
    auth: new Auth(harness.db, hashSecret(key)),
    db: harness.db,
    log: silentLogger,
    ...options,
  });
  const raw = async (path: string, init?: RequestInit) => (await app.request(path, init)) as TestResponse;
  return {
    key,
    raw,
    request: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
      if (init.body !== undefined && !headers.has('Content-Type'))
        headers.set('Content-Type', 'application/json');
      return raw(path, { ...init, headers });
    },
  };
}

/** A harness serving the echo workload with no warm instances, and its API. */
export async function startEchoApi(): Promise<{ harness: Harness; api: TestApi }> {
  const harness = await startHarness({ 'echo.yaml': await echoWorkload({ 'min_idle: 2': 'min_idle: 0' }) });
  return { harness, api: testApi(harness) };
}
