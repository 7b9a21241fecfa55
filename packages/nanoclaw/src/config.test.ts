import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentEnvironment, ConfigError, loadConfig, modelConfigured } from './config.ts';
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

  it("gives agents the clock and the model's name only: never a key, a token or the endpoint", () => {
    writeFileSync(
      join(home.path, '.env'),
      'ANTHROPIC_BASE_URL=http://model:8080\nANTHROPIC_API_KEY=sk-key\nANTHROPIC_AUTH_TOKEN=tok\nANTHROPIC_MODEL=claude-x\nTELEGRAM_BOT_TOKEN=1:x\nDB_PASSWORD=p\n',
    );
    const config = loadConfig({ NANOCLAW_HOME: home.path, TZ: 'Europe/Berlin' });
    expect(modelConfigured(config.model)).toBe(true);
    expect(agentEnvironment(config)).toEqual({
      ANTHROPIC_MODEL: 'claude-x',
      TZ: 'Europe/Berlin',
      HOME: '/home/node',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IDLE_TIMEOUT: String(30 * 60_000),
    });
  });

  it('an endpoint alone is not a configured model', () => {
    writeFileSync(join(home.path, '.env'), 'ANTHROPIC_BASE_URL=http://model:8080\n');
    expect(modelConfigured(loadConfig({ NANOCLAW_HOME: home.path }).model)).toBe(false);
  });

  it('reads the web front door: host names, trusted proxies, and a token required when hosted', () => {
    const config = loadConfig({
      NANOCLAW_HOME: home.path,
      NANOCLAW_WEB_HOSTS: ' Chat.Example.com , alice.tenants.example ',
      NANOCLAW_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8,fd00::/8',
    });
    expect(config.webHosts).toEqual(['chat.example.com', 'alice.tenants.example']);
    expect(config.trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(config.webRequireToken).toBe(false);
    expect(loadConfig({ NANOCLAW_HOME: home.path, BOILERHOUSE_TENANT: 'alice' }).webRequireToken).toBe(true);
    expect(
      loadConfig({
        NANOCLAW_HOME: home.path,
        BOILERHOUSE_TENANT: 'alice',
        NANOCLAW_WEB_REQUIRE_TOKEN: 'false',
      }).webRequireToken,
    ).toBe(false);
    expect(() =>
      loadConfig({
        NANOCLAW_HOME: home.path,
        NANOCLAW_WEB_HOSTS: 'chat.example.com:443',
        NANOCLAW_TRUSTED_PROXIES: '10.0.0.0/33,proxy',
      }),
    ).toThrow(
      [
        'NANOCLAW_WEB_HOSTS (environment) "chat.example.com:443" is not a host name (give names without a port, e.g. chat.example.com)',
        'NANOCLAW_TRUSTED_PROXIES (environment) "10.0.0.0/33" is not an IP address or a CIDR range (e.g. 172.17.0.1 or 10.0.0.0/8)',
        'NANOCLAW_TRUSTED_PROXIES (environment) "proxy" is not an IP address or a CIDR range (e.g. 172.17.0.1 or 10.0.0.0/8)',
      ].join('\n  - '),
    );
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
