import { describe, expect, test } from 'vitest';
import { WorkloadEnvSettingError, workloadEnvironment } from './workload-env.ts';

const daemon = {
  BOILERHOUSE_API_KEY: 'admin-key',
  BOILERHOUSE_SECRET_KEY: 'sealing-key',
  DOCKER_HOST: 'unix:///var/run/docker.sock',
  AWS_ACCESS_KEY_ID: 'AKIA',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  NANOCLAW_NAME: 'Andy',
  NANOCLAW_TZ: 'UTC',
  TZ: 'Europe/Paris',
  HOME: '/root',
};

const allowing = (setting: string | undefined) =>
  workloadEnvironment({ ...daemon, BOILERHOUSE_WORKLOAD_ENV: setting });

describe('BOILERHOUSE_WORKLOAD_ENV', () => {
  test('unset, a workload reads nothing of the environment', () => {
    const env = allowing(undefined);
    expect(env.values()).toEqual({});
    expect(env.access('HOME')).toEqual({
      allowed: false,
      reason: 'add HOME to BOILERHOUSE_WORKLOAD_ENV',
    });
  });

  test('names and NAME_* prefixes allow exactly what they say; spaces and empty entries are fine', () => {
    const env = allowing(' TZ , NANOCLAW_*,,AWS_SECRET_ACCESS_KEY,');
    expect(env.values()).toEqual({
      TZ: 'Europe/Paris',
      NANOCLAW_NAME: 'Andy',
      NANOCLAW_TZ: 'UTC',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
    });
    expect(env.access('NANOCLAW_UNSET')).toEqual({ allowed: true, value: undefined });
    expect(env.access('NANOCLAW')).toMatchObject({ allowed: false });
    expect(env.access('AWS_ACCESS_KEY_ID')).toMatchObject({ allowed: false });
  });

  test("the daemon's own settings are never allowed, whatever the setting says", () => {
    const env = allowing('TZ');
    for (const name of [
      'BOILERHOUSE_API_KEY',
      'BOILERHOUSE_WORKLOAD_ENV',
      'DOCKER_HOST',
      'DOCKER_CERT_PATH',
    ]) {
      const family = name.startsWith('DOCKER_') ? 'DOCKER_' : 'BOILERHOUSE_';
      expect(env.access(name)).toEqual({
        allowed: false,
        reason: `${family}* variables are the daemon's own settings and are never given to workloads`,
      });
    }
  });

  test.each([
    ['*', `"*" would give workloads the daemon's whole environment; list names or NAME_* prefixes`],
    [
      'BOILERHOUSE_API_KEY',
      `"BOILERHOUSE_API_KEY" names the daemon's own settings (BOILERHOUSE_*), which are never given to workloads`,
    ],
    [
      'DOCKER_HOST',
      `"DOCKER_HOST" names the daemon's own settings (DOCKER_*), which are never given to workloads`,
    ],
    [
      'BOILERHOUSE_*',
      `"BOILERHOUSE_*" names the daemon's own settings (BOILERHOUSE_*), which are never given to workloads`,
    ],
    ['AWS_*', `"AWS_*" would give workloads AWS_* credentials by prefix; list each one by its full name`],
    [
      'AWS_S3_*',
      `"AWS_S3_*" would give workloads AWS_* credentials by prefix; list each one by its full name`,
    ],
    ['N*', '"N*" is not a NAME_* prefix: a prefix is letters, digits and _, ending in _ before the *'],
    ['MY-VAR', '"MY-VAR" is not a variable name: use letters, digits and _'],
  ])('%j is refused: %s', (setting, message) => {
    expect(() => allowing(`TZ,${setting}`)).toThrow(
      new WorkloadEnvSettingError(`BOILERHOUSE_WORKLOAD_ENV: ${message}`),
    );
  });

  test('every bad entry is named at once', () => {
    expect(() => allowing('*,DOCKER_HOST')).toThrow(/"\*" would give .*; "DOCKER_HOST" names/);
  });

  test('names that only look like a family are ordinary variables', () => {
    expect(allowing('DOCKER,BOILERHOUSE').access('DOCKER')).toEqual({ allowed: true, value: undefined });
  });
});
