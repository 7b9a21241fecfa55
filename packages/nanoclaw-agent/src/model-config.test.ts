import { expect, test } from 'vitest';
import { modelConfigError } from './model-config.ts';

test('a key, or a token with an endpoint, is a configured model', () => {
  expect(modelConfigError({ ANTHROPIC_API_KEY: 'sk-test' })).toBeNull();
  expect(
    modelConfigError({ ANTHROPIC_AUTH_TOKEN: 't', ANTHROPIC_BASE_URL: 'http://172.17.0.1:8080' }),
  ).toBeNull();
});

test('no key says what to set, and never echoes a value', () => {
  expect(modelConfigError({})).toMatch(/^No model is configured: set ANTHROPIC_API_KEY/);
  expect(modelConfigError({ ANTHROPIC_API_KEY: '  ' })).toMatch(/^No model is configured/);
  const secretUrl = 'https://user:hunter2@models.example';
  const message = modelConfigError({ ANTHROPIC_BASE_URL: secretUrl }) ?? '';
  expect(message).toMatch(/ANTHROPIC_BASE_URL is set but neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN/);
  expect(message).not.toContain('hunter2');
});

test('an endpoint that is not an http(s) URL is named', () => {
  expect(modelConfigError({ ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'localhost:8080' })).toMatch(
    /ANTHROPIC_BASE_URL is not an http\(s\) URL/,
  );
});
