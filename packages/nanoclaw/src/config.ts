/**
 * The host's configuration: the process environment first, then `<home>/.env`. The `.env` is read into
 * this object only, never into `process.env`, and only `agentEnvironment()` goes on to agent containers:
 * never a credential (the model's reaches agents only through the host's model proxy, agent/model-proxy.ts).
 * Every bad value is reported at once, each naming its key and where it came from.
 */
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { GOOGLE_ENDPOINTS, type GoogleEndpoints } from '@boilerhouse/nanoclaw-gmail/config';
import { DEFAULT_REDIRECT_URI } from '@boilerhouse/nanoclaw-gmail/consent';
import { type EnvFileValue, readEnvFile } from './env-file.ts';
import type { Level } from './log.ts';
import { HOST_SERVER_NAMES } from './mcp/gmail.ts';
import { type OperatorServer, parseOperatorServers } from './mcp/operator-servers.ts';

export interface ContainerSettings {
  image: string;
  /** A turn that takes longer is killed (CONTAINER_TIMEOUT, ms). */
  timeoutMs: number;
  /** A container with nothing to do exits after this long (IDLE_TIMEOUT, ms, passed to the agent). */
  idleTimeoutMs: number;
  /** stdout + stderr beyond this many bytes kills the run. */
  maxOutputBytes: number;
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  /** The engine: `unix:///path` or `tcp://host:port`; unset means the local socket. */
  dockerHost: string | undefined;
  /** Host path of NANOCLAW_HOME when NanoClaw runs in a container but talks to the host's engine. */
  hostHomePath: string | undefined;
}

/** How the host's model proxy reaches the model. Secrets: never logged, never given to an agent. */
export interface ModelSettings {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  authToken: string | undefined;
  model: string | undefined;
}

/** Usage limits of one scope, each 0 for none (tokens: input, output and cache, all counted). */
export interface UsageLimits {
  dayTokens: number;
  dayRequests: number;
  monthTokens: number;
  monthRequests: number;
}

export interface Config {
  home: string;
  assistantName: string;
  timezone: string;
  port: number;
  bindHost: string;
  webChat: boolean;
  /** When set, the web chat asks for it (NANOCLAW_WEB_TOKEN). A secret: never logged. */
  webToken: string | undefined;
  /** Without a token the web chat is closed (NANOCLAW_WEB_REQUIRE_TOKEN; on by default under Boilerhouse). */
  webRequireToken: boolean;
  /** Host names the web chat answers to beyond loopback names and IP addresses (NANOCLAW_WEB_HOSTS). */
  webHosts: string[];
  /** Peers (addresses or CIDR ranges) whose X-Forwarded-Proto is believed (NANOCLAW_TRUSTED_PROXIES). */
  trustedProxies: string[];
  logLevel: Level;
  maxConcurrentContainers: number;
  /** Start each group's next agent container ahead of need (NANOCLAW_PREWARM). */
  prewarm: boolean;
  /**
   * At start (under Boilerhouse: a claim or a wake), arm the main group's agent: its container and SDK
   * started on its session before the first message, kept for follow-ups until IDLE_TIMEOUT
   * (NANOCLAW_ARM_AT_START).
   */
  armAtStart: boolean;
  container: ContainerSettings;
  model: ModelSettings;
  telegram: TelegramSettings;
  whatsapp: { enabled: boolean; pairingPhoneNumber: string | undefined };
  /** Outside the project, so no agent can widen its own mounts. */
  mountAllowlistPath: string;
  retry: { baseMs: number; maxAttempts: number };
  /** The whole instance's (NANOCLAW_LIMIT_*) and each group's (NANOCLAW_GROUP_LIMIT_*) model usage limits. */
  limits: { tenant: UsageLimits; group: UsageLimits };
  /** Where the next task's due time is written for the host to wake this NanoClaw (NANOCLAW_WAKE_FILE). */
  wakeFile: string;
  /** Set when Boilerhouse runs this host for a tenant; what its operator's commands name. */
  boilerhouse: BoilerhouseHosting | undefined;
  /** The operator's MCP servers per group (NANOCLAW_MCP_SERVERS, mcp/operator-servers.ts). */
  mcpServers: OperatorServer[];
  gmail: GmailSettings;
}

/** Gmail beside the host (mcp/gmail.ts). The client's secret is a secret: never logged, never given to an agent. */
export interface GmailSettings {
  /** GMAIL_OAUTH_CLIENT_ID and GMAIL_OAUTH_CLIENT_SECRET: a Google "Desktop app" OAuth client. */
  client: { id: string; secret: string } | undefined;
  /** GMAIL_OAUTH_REDIRECT_URI: where consent lands (a loopback address that loads nothing, by default). */
  redirectUri: string;
  /** GMAIL_API_URL, GMAIL_OAUTH_TOKEN_URL, GMAIL_OAUTH_AUTH_URL, GMAIL_OAUTH_REVOKE_URL: Google's unless set. */
  endpoints: GoogleEndpoints;
}

/**
 * Boilerhouse's gate sets BOILERHOUSE_TENANT and BOILERHOUSE_INSTANCE when it starts the host at a claim.
 * The workload is read from the instance's id, which Boilerhouse makes `<workload>-<10 hex digits>`.
 */
export interface BoilerhouseHosting {
  tenant: string;
  instance: string | undefined;
  workload: string | undefined;
}

export interface TelegramSettings {
  botToken: string | undefined;
  apiRoot: string | undefined;
  /**
   * Set: updates come by webhook, not long polling (TELEGRAM_WEBHOOK_URL, the public URL that reaches
   * TELEGRAM_WEBHOOK_PATH; TELEGRAM_WEBHOOK_SECRET, sent with every update, a secret: never logged).
   */
  webhook: { url: string; secret: string } | undefined;
}

/** Where the HTTP server takes Telegram's updates in webhook mode; TELEGRAM_WEBHOOK_URL ends with it. */
export const TELEGRAM_WEBHOOK_PATH = '/telegram/webhook';

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`NanoClaw configuration is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Source = Readonly<Record<string, string | undefined>>;

/** Reads the configuration for `home` (NANOCLAW_HOME, else the working directory). */
export function loadConfig(env: Source = process.env, cwd = process.cwd()): Config {
  const home = resolve(cwd, env.NANOCLAW_HOME ?? '.');
  const file = readEnvFile(join(home, '.env'));
  const problems: string[] = [];
  const read = reader(env, file, problems);

  const assistantName = read.string('ASSISTANT_NAME', 'Andy', (value) =>
    /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(value) ? undefined : 'must be a name of letters, digits, _ or -',
  );
  const timezone = read.string('TZ', Intl.DateTimeFormat().resolvedOptions().timeZone, (value) =>
    isTimeZone(value) ? undefined : 'must be an IANA time zone such as Europe/Berlin',
  );
  const config: Config = {
    home,
    assistantName,
    timezone,
    port: read.integer(env.NANOCLAW_PORT !== undefined ? 'NANOCLAW_PORT' : 'PORT', 3847, 0, 65535),
    bindHost: read.string('NANOCLAW_BIND', '127.0.0.1'),
    webChat: read.boolean('NANOCLAW_WEB_CHAT', true),
    webToken: read.optional('NANOCLAW_WEB_TOKEN', (value) =>
      value.length >= 16 ? undefined : 'must be at least 16 characters',
    ),
    // Boilerhouse's gate sets BOILERHOUSE_TENANT: a hosted assistant never serves an open chat.
    webRequireToken: read.boolean('NANOCLAW_WEB_REQUIRE_TOKEN', env.BOILERHOUSE_TENANT !== undefined),
    webHosts: read.list('NANOCLAW_WEB_HOSTS', (entry) =>
      HOST_NAME.test(entry)
        ? undefined
        : `"${entry}" is not a host name (give names without a port, e.g. chat.example.com)`,
    ),
    trustedProxies: read.list('NANOCLAW_TRUSTED_PROXIES', (entry) =>
      isAddressOrRange(entry)
        ? undefined
        : `"${entry}" is not an IP address or a CIDR range (e.g. 172.17.0.1 or 10.0.0.0/8)`,
    ),
    logLevel: read.choice('NANOCLAW_LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
    maxConcurrentContainers: read.integer('MAX_CONCURRENT_CONTAINERS', 5, 1, 1000),
    prewarm: read.boolean('NANOCLAW_PREWARM', true),
    armAtStart: read.boolean('NANOCLAW_ARM_AT_START', false),
    container: {
      image: read.string('CONTAINER_IMAGE', 'nanoclaw-agent:latest'),
      timeoutMs: read.integer('CONTAINER_TIMEOUT', 10 * 60_000, 1000),
      idleTimeoutMs: read.integer('IDLE_TIMEOUT', 30 * 60_000, 1000),
      maxOutputBytes: read.integer('CONTAINER_MAX_OUTPUT_SIZE', 10 * 1024 * 1024, 1024),
      memoryBytes: read.integer('CONTAINER_MEMORY_MB', 1024, 64) * 1024 * 1024,
      cpus: read.number('CONTAINER_CPUS', 1, 0.1),
      pidsLimit: read.integer('CONTAINER_PIDS_LIMIT', 256, 16),
      dockerHost: read.optional('DOCKER_HOST', (value) =>
        /^(unix:\/\/\/.+|tcp:\/\/[^/]+:\d+\/?)$/.test(value)
          ? undefined
          : 'must be unix:///path/to/socket or tcp://host:port',
      ),
      hostHomePath: read.optional('NANOCLAW_HOST_PATH', (value) =>
        isAbsolute(value) ? undefined : 'must be an absolute path',
      ),
    },
    model: {
      apiKey: read.optional('ANTHROPIC_API_KEY'),
      baseUrl: read.optional('ANTHROPIC_BASE_URL', (value) =>
        /^https?:\/\/[^\s]+$/.test(value) ? undefined : 'must be an http:// or https:// URL',
      ),
      authToken: read.optional('ANTHROPIC_AUTH_TOKEN'),
      model: read.optional('ANTHROPIC_MODEL'),
    },
    telegram: {
      botToken: read.optional('TELEGRAM_BOT_TOKEN', (value) =>
        /^\d+:[A-Za-z0-9_-]+$/.test(value) ? undefined : 'does not look like a bot token (digits:letters)',
      ),
      apiRoot: read.optional('TELEGRAM_API_ROOT', (value) =>
        /^https?:\/\/[^\s]+$/.test(value) ? undefined : 'must be an http:// or https:// URL',
      ),
      webhook: telegramWebhook(read, problems),
    },
    whatsapp: {
      enabled: read.boolean('WHATSAPP_ENABLED', false),
      pairingPhoneNumber: read.optional('WHATSAPP_PHONE_NUMBER', (value) =>
        /^\d{7,15}$/.test(value) ? undefined : 'must be the phone number in digits only, country code first',
      ),
    },
    mountAllowlistPath: resolve(
      home,
      read.string('NANOCLAW_MOUNT_ALLOWLIST', join(homedir(), '.config', 'nanoclaw', 'mount-allowlist.json')),
    ),
    retry: {
      baseMs: read.integer('NANOCLAW_RETRY_BASE_MS', 5000, 1),
      maxAttempts: read.integer('NANOCLAW_MAX_ATTEMPTS', 5, 1, 100),
    },
    limits: { tenant: readLimits(read, 'NANOCLAW_LIMIT'), group: readLimits(read, 'NANOCLAW_GROUP_LIMIT') },
    wakeFile: resolve(
      home,
      read.string('NANOCLAW_WAKE_FILE', 'data/wake-at', (value) =>
        isAbsolute(value) || value.split('/').includes('..')
          ? 'must be a path inside NANOCLAW_HOME, written relative to it (its host reads it there)'
          : undefined,
      ),
    ),
    boilerhouse: boilerhouseHosting(env),
    mcpServers: operatorServers(read, problems),
    gmail: gmailSettings(read, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function operatorServers(read: ReturnType<typeof reader>, problems: string[]): OperatorServer[] {
  const text = read.optional('NANOCLAW_MCP_SERVERS');
  if (text === undefined) return [];
  const parsed = parseOperatorServers(text, HOST_SERVER_NAMES);
  if (parsed.every((entry) => typeof entry === 'string')) {
    for (const problem of parsed) problems.push(`NANOCLAW_MCP_SERVERS ${problem}`);
    return [];
  }
  return parsed as OperatorServer[];
}

function gmailSettings(read: ReturnType<typeof reader>, problems: string[]): GmailSettings {
  const url = (value: string) =>
    /^https?:\/\/[^\s]+$/.test(value) ? undefined : 'must be an http:// or https:// URL';
  const id = read.optional('GMAIL_OAUTH_CLIENT_ID');
  const secret = read.optional('GMAIL_OAUTH_CLIENT_SECRET');
  if ((id === undefined) !== (secret === undefined))
    problems.push('GMAIL_OAUTH_CLIENT_ID and GMAIL_OAUTH_CLIENT_SECRET go together: set both, or neither');
  return {
    client: id !== undefined && secret !== undefined ? { id, secret } : undefined,
    redirectUri: read.string('GMAIL_OAUTH_REDIRECT_URI', DEFAULT_REDIRECT_URI, url),
    endpoints: {
      api: read.string('GMAIL_API_URL', GOOGLE_ENDPOINTS.api, url).replace(/\/+$/, ''),
      token: read.string('GMAIL_OAUTH_TOKEN_URL', GOOGLE_ENDPOINTS.token, url),
      auth: read.string('GMAIL_OAUTH_AUTH_URL', GOOGLE_ENDPOINTS.auth, url),
      revoke: read.string('GMAIL_OAUTH_REVOKE_URL', GOOGLE_ENDPOINTS.revoke, url),
    },
  };
}

function boilerhouseHosting(env: Source): BoilerhouseHosting | undefined {
  const tenant = env.BOILERHOUSE_TENANT;
  if (tenant === undefined || tenant === '') return undefined;
  const instance = env.BOILERHOUSE_INSTANCE || undefined;
  return { tenant, instance, workload: /^(.+)-[0-9a-f]{10}$/.exec(instance ?? '')?.[1] };
}

/**
 * True when the agent can call a model: a key or a token (for another endpoint, ANTHROPIC_BASE_URL goes
 * with them). Without one no agent container is started.
 */
export function modelConfigured(model: ModelSettings): boolean {
  return model.apiKey !== undefined || model.authToken !== undefined;
}

/**
 * The environment of an agent container: the clock, the idle timeout and the model's name. No key, token
 * or endpoint: the agent reaches the model through the host's proxy with a token of its run alone.
 */
export function agentEnvironment(config: Config): Record<string, string> {
  const env: Record<string, string> = {
    TZ: config.timezone,
    HOME: '/home/node',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    IDLE_TIMEOUT: String(config.container.idleTimeoutMs),
  };
  if (config.model.model !== undefined) env.ANTHROPIC_MODEL = config.model.model;
  return env;
}

function readLimits(read: ReturnType<typeof reader>, prefix: string): UsageLimits {
  return {
    dayTokens: read.integer(`${prefix}_DAY_TOKENS`, 0, 0),
    dayRequests: read.integer(`${prefix}_DAY_REQUESTS`, 0, 0),
    monthTokens: read.integer(`${prefix}_MONTH_TOKENS`, 0, 0),
    monthRequests: read.integer(`${prefix}_MONTH_REQUESTS`, 0, 0),
  };
}

function telegramWebhook(read: ReturnType<typeof reader>, problems: string[]): TelegramSettings['webhook'] {
  const url = read.optional('TELEGRAM_WEBHOOK_URL', (value) =>
    /^https?:\/\/[^\s?#]+$/.test(value) && value.endsWith(TELEGRAM_WEBHOOK_PATH)
      ? undefined
      : `must be the public https:// URL that reaches this NanoClaw's ${TELEGRAM_WEBHOOK_PATH}`,
  );
  // Telegram's own rule for secret_token is 1-256 of these characters; 32 or more make it unguessable.
  const secret = read.optional('TELEGRAM_WEBHOOK_SECRET', (value) =>
    /^[A-Za-z0-9_-]{32,256}$/.test(value) ? undefined : 'must be 32 to 256 letters, digits, _ or -',
  );
  if (url === undefined) return undefined;
  if (secret === undefined) {
    problems.push(
      'TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET: without it anyone who finds the URL could post updates',
    );
    return undefined;
  }
  return { url, secret };
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Typed reads of one key: the environment wins over `.env`; problems are collected, not thrown. */
function reader(env: Source, file: Record<string, EnvFileValue>, problems: string[]) {
  const lookup = (key: string): { value: string; where: string } | undefined => {
    const fromEnv = env[key];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, where: 'environment' };
    const fromFile = file[key];
    if (fromFile !== undefined && fromFile.value !== '') return fromFile;
    return undefined;
  };
  // The value itself is never shown: it may be a secret.
  const fail = (key: string, where: string, problem: string) => problems.push(`${key} (${where}) ${problem}`);
  const optional = (key: string, check?: (value: string) => string | undefined): string | undefined => {
    const found = lookup(key);
    if (found === undefined) return undefined;
    const problem = check?.(found.value);
    if (problem !== undefined) fail(key, found.where, problem);
    return found.value;
  };
  const number = (
    key: string,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    whole = false,
  ) => {
    const found = lookup(key);
    if (found === undefined) return fallback;
    const value = Number(found.value.replaceAll('_', ''));
    if (!Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < min || value > max) {
      fail(key, found.where, `must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  return {
    optional,
    /** A comma-separated list (lowercased, blanks dropped); each entry is checked on its own. */
    list: (key: string, check: (entry: string) => string | undefined): string[] => {
      const found = lookup(key);
      if (found === undefined) return [];
      const entries = found.value
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter((entry) => entry !== '');
      for (const entry of entries) {
        const problem = check(entry);
        if (problem !== undefined) fail(key, found.where, problem);
      }
      return entries;
    },
    string: (key: string, fallback: string, check?: (value: string) => string | undefined) =>
      optional(key, check) ?? fallback,
    number: (key: string, fallback: number, min: number) => number(key, fallback, min),
    integer: (key: string, fallback: number, min: number, max?: number) =>
      number(key, fallback, min, max, true),
    boolean: (key: string, fallback: boolean) => {
      const found = lookup(key);
      if (found === undefined) return fallback;
      const value = found.value.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      fail(key, found.where, 'must be true or false');
      return fallback;
    },
    choice: <T extends string>(key: string, fallback: T, choices: readonly T[]): T => {
      const value = optional(key, (candidate) =>
        choices.includes(candidate as T) ? undefined : `must be one of ${choices.join(', ')}`,
      );
      return value !== undefined && choices.includes(value as T) ? (value as T) : fallback;
    },
  };
}
