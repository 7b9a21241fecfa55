import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentEnvironment, ConfigError, loadConfig, modelConfigured } from './config.ts';
import { parseEnvFile } from './env-file.ts';
import { tempHome } from './testing/temp-home.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
beforeEach(async () => {
  home = await tempHome();
});
afterEach(() => home.remove());

describe('loadConfig', () => {
  it('has working defaults with nothing set', () => {
    const config = loadConfig({ NANOCLAW_HOME: home.path });
    expect(config).toMatchObject({
      home: home.path,
      assistantName: 'Andy',
      port: 3847,
      webChat: true,
      maxConcurrentContainers: 5,
      container: { image: 'nanoclaw-agent:latest', dockerHost: undefined },
    });
    expect(modelConfigured(config.model)).toBe(false);
  });

  it('reads .env, with the environment winning, and never touches process.env', () => {
    writeFileSync(
      join(home.path, '.env'),
      [
        '# settings',
        'ASSISTANT_NAME=Bob',
        'export ANTHROPIC_API_KEY="sk-from-file"',
        "TELEGRAM_BOT_TOKEN='123:abc_DEF'",
        'MAX_CONCURRENT_CONTAINERS=2 # two is plenty',
        'SOME_OTHER_SECRET=hunter2',
      ].join('\n'),
    );
    const config = loadConfig({ NANOCLAW_HOME: home.path, ASSISTANT_NAME: 'Carol' });
    expect(config.assistantName).toBe('Carol');
    expect(config.model.apiKey).toBe('sk-from-file');
    expect(config.telegram.botToken).toBe('123:abc_DEF');
    expect(config.maxConcurrentContainers).toBe(2);
    expect(process.env.SOME_OTHER_SECRET).toBeUndefined();
    expect(process.env.ANTHROPIC_API_KEY).toBeUndefined();
  });

  it('gives agents the model settings and the clock only', () => {
    writeFileSync(
      join(home.path, '.env'),
      'ANTHROPIC_BASE_URL=http://model:8080\nTELEGRAM_BOT_TOKEN=1:x\nDB_PASSWORD=p\n',
    );
    const config = loadConfig({ NANOCLAW_HOME: home.path, TZ: 'Europe/Berlin' });
    // An endpoint alone is not enough: the agent needs a key or a token too.
    expect(modelConfigured(config.model)).toBe(false);
    const env = agentEnvironment(config);
    expect(env).toEqual({
      ANTHROPIC_BASE_URL: 'http://model:8080',
      TZ: 'Europe/Berlin',
      HOME: '/home/node',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IDLE_TIMEOUT: String(30 * 60_000),
    });
  });

  it('reports every bad value at once, naming key and source but never the value', () => {
    writeFileSync(
      join(home.path, '.env'),
      'CONTAINER_TIMEOUT=soon\nTELEGRAM_BOT_TOKEN=secret-looking-value\n',
    );
    let error: unknown;
    try {
      loadConfig({
        NANOCLAW_HOME: home.path,
        TZ: 'Mars/Olympus',
        NANOCLAW_PORT: '99999',
        DOCKER_HOST: 'ftp://x',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(
      `CONTAINER_TIMEOUT (${join(home.path, '.env')}:1) must be a whole number from 1000`,
    );
    expect(message).toContain('TELEGRAM_BOT_TOKEN');
    expect(message).toContain('TZ (environment) must be an IANA time zone');
    expect(message).toContain('NANOCLAW_PORT (environment) must be a whole number from 0 to 65535');
    expect(message).toContain('DOCKER_HOST (environment) must be unix:///path/to/socket or tcp://host:port');
    expect(message).not.toContain('secret-looking-value');
  });
});

describe('parseEnvFile', () => {
  it('names the line of a malformed entry without echoing it', () => {
    expect(() => parseEnvFile('A=1\nthis is wrong sk-secret\n', '.env')).toThrow(
      '.env:2: expected KEY=VALUE',
    );
    expect(() => parseEnvFile('A="open', '.env')).toThrow('.env:1: the value\'s closing " is missing');
  });

  it('undoes escapes in double quotes only', () => {
    const values = parseEnvFile('A="x\\ny"\nB=\'x\\ny\'\n', 'f');
    expect(values.A?.value).toBe('x\ny');
    expect(values.B?.value).toBe('x\\ny');
  });
});
