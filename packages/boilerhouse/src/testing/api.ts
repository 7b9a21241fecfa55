/**
 * The HTTP API of a test harness, called through `app.request()` with the admin key (auth is on). Every
 * success response is checked against what the app's own OpenAPI document declares for it (media type,
 * and for JSON the body's schema), so the API tests prove the document matches what the API answers.
 */
import { randomBytes } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
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
  /** `METHOD /path/{template} STATUS` of every success response checked against the document so far. */
  checked: ReadonlySet<string>;
}

export function testApi(
  harness: Harness,
  options: { maxBodyBytes?: number; dashboardDir?: string } = {},
): TestApi {
  const key = randomBytes(24).toString('base64url');
  const app = createApp(harness.boilerhouse, {
    auth: new Auth(harness.db, hashSecret(key)),
    db: harness.db,
    log: silentLogger,
    ...options,
  });
  const checked = new Set<string>();
  let checker: Promise<ResponseChecker> | undefined;
  const checkerOfApp = () => {
    checker ??= (async () => {
      const path = '/api/v1/openapi.json';
      const response = await app.request(path, { headers: { Authorization: `Bearer ${key}` } });
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
      const made = responseChecker(await response.clone().json(), checked);
      await made.check('GET', path, response);
      return made;
    })();
    return checker;
  };
  const raw = async (path: string, init?: RequestInit) => {
    const response = (await app.request(path, init)) as TestResponse;
    await (await checkerOfApp()).check(init?.method ?? 'GET', path, response);
    return response;
  };
  return {
    key,
    raw,
    checked,
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

export interface ResponseChecker {
  /**
   * Rejects, naming the route, status and every mismatch, when a 2xx response is not what the document
   * declares for its operation and status. Reads a clone of the body, so the caller can still read it.
   */
  check(method: string, path: string, response: Response): Promise<void>;
}

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

const DOCUMENT_ID = 'https://boilerhouse.invalid/openapi.json';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** `checked` collects `METHOD /template STATUS` of each response checked. */
export function responseChecker(
  // biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON.
  document: any,
  checked: Set<string> = new Set(),
): ResponseChecker {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
  ajv.addFormat('date-time', { type: 'string', validate: (text) => ISO_TIME.test(text) });
  // The whole document, so that `#/components/schemas/...` inside each response schema resolves.
  ajv.addSchema(document, DOCUMENT_ID);
  const operations: Operation[] = Object.entries(
    document.paths as Record<string, Record<string, Operation['responses']>>,
  ).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method,
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      responses: (operation as unknown as { responses: Operation['responses'] }).responses,
    })),
  );
  const validators = new Map<string, ValidateFunction>();
  return {
    async check(method, path, response) {
      if (response.status < 200 || response.status > 299) return;
      const { pathname } = new URL(path, 'http://localhost');
      // The rest is the dashboard's files, which the document does not describe.
      if (!pathname.startsWith('/api/') && pathname !== '/metrics') return;
      const verb = method.toLowerCase();
      const operation = operations.find((each) => each.method === verb && each.pattern.test(pathname));
      const what = `${verb.toUpperCase()} ${operation?.template ?? pathname} ${response.status}`;
      if (operation === undefined) throw new Error(`${what}: the OpenAPI document has no such operation`);
      const declared = operation.responses[String(response.status)];
      if (declared === undefined) throw new Error(`${what}: the document declares no such response`);
      checked.add(what);
      if (declared.content === undefined) {
        if ((await response.clone().text()) !== '') throw new Error(`${what}: declared empty, has a body`);
        return;
      }
      const type = (response.headers.get('Content-Type') ?? '').split(';')[0]?.trim() ?? '';
      const content = declared.content[type];
      if (content === undefined) {
        throw new Error(
          `${what}: answered ${type || 'no type'}; the document says ${Object.keys(declared.content)}`,
        );
      }
      if (type !== 'application/json') return;
      if (content.schema === undefined)
        throw new Error(`${what}: the document gives the JSON body no schema`);
      const pointer = [
        'paths',
        operation.template,
        verb,
        'responses',
        String(response.status),
        'content',
        type,
      ]
        .map((part) => encodeURIComponent(part.replaceAll('~', '~0').replaceAll('/', '~1')))
        .join('/');
      let validate = validators.get(pointer);
      if (validate === undefined) {
        validate = ajv.compile({ $ref: `${DOCUMENT_ID}#/${pointer}/schema` });
        validators.set(pointer, validate);
      }
      const body: unknown = await response.clone().json();
      if (!validate(body)) {
        const problems = (validate.errors ?? []).map(
          (error) => `  body${error.instancePath}: ${error.message} (${error.schemaPath})`,
        );
        throw new Error(`${what}: the body does not match its schema:\n${problems.join('\n')}`);
      }
    },
  };
}
