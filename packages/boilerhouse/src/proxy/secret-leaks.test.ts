/** refuseSecrets on decoded bodies: where a secret value is found is named, the value never is. */
import { describe, expect, test } from 'vitest';
import { CREATE_BODY } from './create-schema.ts';
import { ProxyDenial } from './denial.ts';
import { decode, type GoStruct } from './go-decode.ts';
import { parseJson } from './go-json.ts';
import { refuseSecrets } from './secret-leaks.ts';

const KEY = 'sk-ant-0123456789abcdef';
const SECRETS = new Map([
  ['ANTHROPIC_API_KEY', KEY],
  ['LANG', 'en'],
]);

/** The refusal's message for `body`, decoded as the engine would; undefined when it passes. */
function refusal(body: unknown): string | undefined {
  const decoded = decode(parseJson(JSON.stringify(body)), CREATE_BODY) as GoStruct;
  try {
    refuseSecrets(decoded, SECRETS, 'container create');
  } catch (error) {
    if (!(error instanceof ProxyDenial)) throw error;
    expect(error.reason).toBe('secret');
    expect(error.status).toBe(403);
    expect(error.message).not.toContain(KEY);
    return error.message;
  }
  return undefined;
}

describe("the tenant's secret values in a child's configuration", () => {
  test('an environment variable holding one is named, with the secret', () => {
    expect(refusal({ Image: 'a', Env: ['A=1', `KEY=x${KEY}y`] })).toBe(
      `container create refused: Env variable "KEY" (Env[1]) holds the value of the tenant's secret ANTHROPIC_API_KEY. A tenant's secrets stay out of containers' configuration; the instance reads them from its secrets volume`,
    );
  });

  test('a variable whose very name holds it is named by its place only', () => {
    expect(refusal({ Image: 'a', Env: [`${KEY}=1`] })).toContain(
      "Env[0] holds the value of the tenant's secret",
    );
  });

  test('any other field, nested or a map key, is named by its path; every place is listed', () => {
    const message = refusal({
      Image: 'a',
      Cmd: ['run', KEY],
      Entrypoint: [`--key=${KEY}`],
      Labels: { [KEY]: 'v', note: KEY },
      HostConfig: { ExtraHosts: [`${KEY}:1.2.3.4`] },
      Healthcheck: { Test: ['CMD', KEY] },
    });
    for (const where of [
      'Cmd[1] holds',
      'Entrypoint[0] holds',
      'a key of Labels holds',
      'Labels.note holds',
      'HostConfig.ExtraHosts[0] holds',
      'Healthcheck.Test[1] holds',
    ])
      expect(message).toContain(where);
  });

  test('values under 8 characters are not looked for, and a body without a secret passes', () => {
    expect(refusal({ Image: 'a', Env: ['LANG=en', 'LC_ALL=en'], Cmd: ['echo', 'sk-ant-'] })).toBeUndefined();
  });
});
