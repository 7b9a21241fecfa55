import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { formatProblem, loadWorkload } from './load.ts';
import type { WorkloadSpec } from './workload/workload.ts';
import { workloadEnvironment } from './workload-env.ts';

const MIB = 1024 * 1024;
const repoFile = (path: string) => new URL(`../../../${path}`, import.meta.url);

/** Loads with `env` set and each of its variables (and the `listed` ones, unset) allowed to the file. */
function load(text: string, env: Record<string, string> = {}, listed: string[] = []) {
  const allowed = [...Object.keys(env), ...listed].join(',');
  const variables = workloadEnvironment({ ...env, BOILERHOUSE_WORKLOAD_ENV: allowed });
  return loadWorkload(text, { file: '/srv/workloads/test.yaml', env: variables });
}

/** Loads a file that must be valid, and returns its spec. */
function spec(text: string, env: Record<string, string> = {}): WorkloadSpec {
  const result = load(text, env);
  expect(result.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
  return result.spec as WorkloadSpec;
}

function warnings(text: string, env: Record<string, string> = {}, listed: string[] = []): string[] {
  return load(text, env, listed).problems.map((problem) => formatProblem('w.yaml', problem));
}

const EVERY_FIELD = `
id: every-field
name: Every field
image: registry.local/app:1.2
command: ["node", "dist/index.js", 42]
entrypoint: /usr/bin/tini --
environment:
  NODE_ENV: production
  PORT: 8080
  DEBUG: false
  FROM_HOST: \${APP_TOKEN}
  TENANT_PREFIX: tenants/\${tenantId}
expose: [8080, "9090/tcp"]
volumes:
  state: { target: /app/data }
  secrets: { target: /app/.env }
  comm: { target: /app/store, read_only: true }
  custom:
    - name: cache
      target: /app/cache
      read_only: false
      seed: ./seeds/cache/
security:
  user: "1000:1000"
read_only: false
network_mode: bridge
resources:
  limits:
    cpus: "0.5"
    memory: 2G
    pids: 128
healthcheck:
  test: ["CMD-SHELL", "curl -f http://localhost:8080/health"]
  interval: 1m30s
  timeout: 5
  retries: 5
  start_period: 30
  start_interval: 500ms
pool:
  min_idle: 2
  max_size: 8
  affinity_timeout: 45m
  reserve: pause
  file_idle_ttl: 600000
sync:
  sink:
    type: s3
    bucket: tenant-state
    region: eu-west-1
    prefix: nanoclaw/\${tenantId}/
    endpoint: http://127.0.0.1:9000
    force_path_style: true
    credentials:
      access_key_id: \${S3_KEY}
      secret_access_key: \${S3_SECRET}
      session_token: \${S3_SESSION}
  mappings:
    - path: data/sessions
      direction: bidirectional
      mode: sync
    - path: store
      pattern: "*.db*"
      direction: upload
      mode: copy
      sink_path: db
    - path: config.json
      direction: download
  policy:
    on_claim: true
    on_release: false
    interval: 60000
    manual: true
hooks:
  post_claim:
    - command: echo claimed
  pre_release:
    - command: ["sqlite3", "/app/store/messages.db", "PRAGMA wal_checkpoint"]
      timeout: 10s
      on_error: retry
      retries: 2
    - command: sync
      on_error: continue
docker:
  images: ["nanoclaw-agent:*"]
  max_containers: 3
  limits:
    cpus: 1.5
    memory: 1024
    pids: 100
x-notes: ignored, as compose ignores x- keys
`;

describe('a file using every field', () => {
  test('loads into the typed spec, with units converted', () => {
    const env = { APP_TOKEN: 'tok', S3_KEY: 'k', S3_SECRET: 's', S3_SESSION: 't' };
    expect(spec(EVERY_FIELD, env)).toEqual({
      id: 'every-field',
      name: 'Every field',
      image: 'registry.local/app:1.2',
      command: ['node', 'dist/index.js', '42'],
      entrypoint: ['/usr/bin/tini', '--'],
      environment: {
        NODE_ENV: 'production',
        PORT: '8080',
        DEBUG: 'false',
        FROM_HOST: 'tok',
        TENANT_PREFIX: 'tenants/${tenantId}',
      },
      expose: [8080, 9090],
      volumes: {
        state: { target: '/app/data', readOnly: false },
        secrets: { target: '/app/.env', readOnly: true },
        comm: { target: '/app/store', readOnly: true },
        custom: [{ name: 'cache', target: '/app/cache', readOnly: false, seed: 'seeds/cache' }],
      },
      security: { user: '1000:1000' },
      readOnly: false,
      networkMode: 'bridge',
      resources: { limits: { cpus: 0.5, memory: 2048 * MIB, pids: 128 } },
      healthcheck: {
        test: { kind: 'shell', command: 'curl -f http://localhost:8080/health' },
        interval: 90_000,
        timeout: 5_000,
        retries: 5,
        startPeriod: 30_000,
        startInterval: 500,
      },
      pool: {
        minIdle: 2,
        maxSize: 8,
        affinityTimeout: 2_700_000,
        reserve: 'pause',
        boot: 'at_claim',
        fileIdleTtl: 600_000,
      },
      sync: {
        sink: {
          type: 's3',
          bucket: 'tenant-state',
          region: 'eu-west-1',
          prefix: 'nanoclaw/${tenantId}/',
          endpoint: 'http://127.0.0.1:9000',
          forcePathStyle: true,
          credentials: {
            accessKeyId: { env: 'S3_KEY' },
            secretAccessKey: { env: 'S3_SECRET' },
            sessionToken: { env: 'S3_SESSION' },
          },
        },
        mappings: [
          { path: 'data/sessions', direction: 'bidirectional', mode: 'sync' },
          { path: 'store', pattern: '*.db*', direction: 'upload', mode: 'copy', sinkPath: 'db' },
          { path: 'config.json', direction: 'download', mode: 'copy' },
        ],
        retention: { count: 10 },
        policy: { onClaim: true, onRelease: false, interval: 60_000, manual: true },
      },
      hooks: {
        postClaim: [{ command: ['/bin/sh', '-c', 'echo claimed'], timeout: 30_000, onError: 'fail' }],
        preRelease: [
          {
            command: ['sqlite3', '/app/store/messages.db', 'PRAGMA wal_checkpoint'],
            timeout: 10_000,
            onError: 'retry',
            retries: 2,
          },
          { command: ['/bin/sh', '-c', 'sync'], timeout: 30_000, onError: 'continue' },
        ],
      },
      docker: {
        images: ['nanoclaw-agent:*'],
        maxContainers: 3,
        limits: { cpus: 1.5, memory: 1024 * MIB, pids: 100 },
        exec: false,
        readOnly: true,
        onRelease: 'remove',
        capabilities: [],
      },
    } satisfies WorkloadSpec);
  });

  test('the secret values themselves never enter the spec', () => {
    const env = {
      APP_TOKEN: 'tok',
      S3_KEY: 'key-value',
      S3_SECRET: 'secret-value',
      S3_SESSION: 'session-value',
    };
    const text = JSON.stringify(spec(EVERY_FIELD, env));
    for (const secret of ['key-value', 'secret-value', 'session-value']) expect(text).not.toContain(secret);
  });
});

describe('defaults', () => {
  test('a minimal file gets every default', () => {
    expect(spec('id: tiny\nimage: busybox\n')).toEqual({
      id: 'tiny',
      name: 'tiny',
      image: 'busybox',
      environment: {},
      expose: [],
      volumes: { custom: [] },
      security: {},
      readOnly: true,
      networkMode: 'bridge',
      resources: { limits: { cpus: 1, memory: 512 * MIB, pids: 512 } },
      pool: { minIdle: 1, maxSize: 10, affinityTimeout: 1_800_000, reserve: 'run', boot: 'at_claim' },
      hooks: { postClaim: [], preRelease: [] },
    } satisfies WorkloadSpec);
  });

  test('a state volume without a sync block is saved whole to the local sink', () => {
    expect(spec('id: s\nimage: i\nvolumes:\n  state: {target: /data}\n').sync).toEqual({
      sink: { type: 'local' },
      mappings: [{ path: '.', direction: 'bidirectional', mode: 'sync' }],
      retention: { count: 10 },
      policy: { onClaim: true, onRelease: true, manual: false },
    });
  });

  test('a sync block without mappings moves the whole state volume', () => {
    const text =
      'id: s\nimage: i\nvolumes: {state: {target: /data}}\nsync:\n  sink: {type: local, path: sinks/s}\n';
    expect(spec(text).sync?.mappings).toEqual([{ path: '.', direction: 'bidirectional', mode: 'sync' }]);
  });

  test('health check timings follow Docker', () => {
    expect(spec('id: h\nimage: i\nhealthcheck:\n  test: "true"\n').healthcheck).toEqual({
      test: { kind: 'shell', command: 'true' },
      interval: 30_000,
      timeout: 30_000,
      retries: 3,
      startPeriod: 0,
      startInterval: 5_000,
    });
  });

  test('policy interval 0 turns periodic saves off', () => {
    const text = 'id: s\nimage: i\nvolumes: {state: {target: /d}}\nsync:\n  policy: {interval: 0}\n';
    expect(spec(text).sync?.policy).toEqual({ onClaim: true, onRelease: true, manual: false });
  });
});

describe('the docker block', () => {
  test('gets read-only children, no exec, 5 containers and the child caps', () => {
    expect(spec('id: d\nimage: i\ndocker:\n  images: ["agent:*"]\n').docker).toEqual({
      images: ['agent:*'],
      maxContainers: 5,
      limits: { cpus: 1, memory: 1024 * MIB, pids: 256 },
      exec: false,
      readOnly: true,
      onRelease: 'remove',
      capabilities: [],
    });
    const open = spec('id: d\nimage: i\ndocker: {images: ["a"], exec: true, read_only: false}\n').docker;
    expect(open).toMatchObject({ exec: true, readOnly: false });
    expect(warnings('id: d\nimage: i\ndocker: {images: ["a"], exec: yes-please}\n')).toEqual([
      expect.stringContaining('docker.exec'),
    ]);
  });

  test('keeps its containers through a running reservation only', () => {
    expect(spec('id: d\nimage: i\ndocker: {images: ["a"], on_release: keep}\n').docker?.onRelease).toBe(
      'keep',
    );
    expect(
      warnings(
        'id: d\nimage: i\nuser: 1000\npool: {reserve: pause}\ndocker: {images: ["a"], on_release: keep}\n',
      ),
    ).toEqual([
      'w.yaml:5:37 docker.on_release: on_release keep leaves containers running through a reservation, but reserve: pause freezes the instance, not them; use reserve: run or on_release remove',
    ]);
  });

  test("replaces DOCKER_HOST and keeps /var/run/boilerhouse for the socket's directory", () => {
    const text =
      'id: d\nimage: i\nuser: 1000\nenvironment: {DOCKER_HOST: "tcp://proxy:2375"}\nvolumes: {comm: {target: /var/run/boilerhouse}}\ndocker: {images: ["a"]}\n';
    expect(warnings(text)).toEqual([
      'w.yaml:4:28 environment.DOCKER_HOST: warning: with a docker block, DOCKER_HOST points at the filtered socket (/var/run/boilerhouse/docker.sock); this value is replaced',
      "w.yaml:5:26 volumes.comm.target: target /var/run/boilerhouse is already used by the docker block's socket",
    ]);
  });
});

describe('the gateway block and pool.wake', () => {
  test('a gateway needs its port; token auth, a 30 s wake and traffic as activity by default', () => {
    expect(spec('id: g\nimage: i\nexpose: [3847]\ngateway: {port: 3847}\n').gateway).toEqual({
      port: 3847,
      auth: 'token',
      wakeTimeout: 30_000,
      activity: true,
    });
    expect(
      spec('id: g\nimage: i\ngateway: {port: 80, auth: none, wake_timeout: 5s}\n').gateway,
    ).toMatchObject({
      auth: 'none',
      wakeTimeout: 5_000,
    });
    expect(warnings('id: g\nimage: i\ngateway: {auth: token}\n')).toEqual([
      expect.stringContaining('gateway.port'),
    ]);
    expect(warnings('id: g\nimage: i\nnetwork_mode: none\ngateway: {port: 80}\n')).toEqual([
      expect.stringContaining('the gateway could never reach the instance'),
    ]);
  });

  test('wake.at_file is a relative file of the state volume; wake.every a duration', () => {
    const text =
      'id: w\nimage: i\nvolumes: {state: {target: /data}}\npool:\n  wake: {at_file: next-wake, every: 15m}\n';
    expect(spec(text).pool.wake).toEqual({ atFile: 'next-wake', every: 15 * 60_000 });
    expect(warnings('id: w\nimage: i\npool:\n  wake: {at_file: next-wake}\n')).toEqual([
      expect.stringContaining('volumes.state is not set'),
    ]);
    expect(
      warnings('id: w\nimage: i\nvolumes: {state: {target: /data}}\npool:\n  wake: {at_file: ../x}\n'),
    ).toEqual([expect.stringContaining('no ".."')]);
  });
});

describe('pool.boot', () => {
  test('the process starts at the claim unless the workload says it boots ahead; nothing else is taken', () => {
    expect(spec('id: b\nimage: i\n').pool.boot).toBe('at_claim');
    expect(spec('id: b\nimage: i\npool:\n  boot: ahead\n').pool.boot).toBe('ahead');
    expect(warnings('id: b\nimage: i\npool:\n  boot: early\n')).toEqual([
      expect.stringMatching(/pool\.boot: expected one of at_claim, ahead/),
    ]);
  });
});

describe('compose spellings', () => {
  test.each([
    ['pool:\n  min_size: 3\n', (s: WorkloadSpec) => s.pool.minIdle, 3],
    ['pool:\n  file_idle_ttl_ms: 600000\n', (s: WorkloadSpec) => s.pool.fileIdleTtl, 600_000],
    ['pool:\n  affinity_timeout_ms: 5000\n', (s: WorkloadSpec) => s.pool.affinityTimeout, 5_000],
    ['user: 1000\n', (s: WorkloadSpec) => s.security.user, '1000'],
    ['user: node\n', (s: WorkloadSpec) => s.security.user, 'node'],
    ['ports: ["8080", 9000]\n', (s: WorkloadSpec) => s.expose, [8080, 9000]],
    [
      'deploy:\n  resources:\n    limits: {cpus: 2, memory: 1G}\n',
      (s: WorkloadSpec) => s.resources.limits,
      { cpus: 2, memory: 1024 * MIB, pids: 512 },
    ],
    [
      'environment:\n  - A=1\n  - B=x=y\n  - C=\n',
      (s: WorkloadSpec) => s.environment,
      { A: '1', B: 'x=y', C: '' },
    ],
    ["command: node -e 'console.log(1)'\n", (s: WorkloadSpec) => s.command, ['node', '-e', 'console.log(1)']],
    [
      'healthcheck:\n  test: ["CMD", "node", "-e", "1"]\n',
      (s: WorkloadSpec) => s.healthcheck?.test,
      { kind: 'exec', argv: ['node', '-e', '1'] },
    ],
  ])('%j', (extra, pick, expected) => {
    expect(pick(spec(`id: c\nimage: i\n${extra}`))).toEqual(expected);
  });

  test('an environment entry without a value is taken from the host environment', () => {
    expect(
      load('id: e\nimage: i\nenvironment:\n  - TZ\n  - NOPE\n', { TZ: 'Europe/Paris' }, ['NOPE']).spec
        ?.environment,
    ).toEqual({
      TZ: 'Europe/Paris',
    });
    expect(spec('id: e\nimage: i\nenvironment:\n  TZ:\n', { TZ: 'UTC' }).environment).toEqual({ TZ: 'UTC' });
  });
});

describe('YAML features', () => {
  test('anchors, aliases and merge keys', () => {
    const text = `
x-limits: &limits
  cpus: 2
  memory: 1G
id: anchors
image: i
resources:
  limits:
    <<: *limits
    memory: 2G
hooks:
  pre_release:
    - &hook { command: "echo one", timeout: 1s }
    - *hook
`;
    const result = spec(text);
    expect(result.resources.limits).toEqual({ cpus: 2, memory: 2048 * MIB, pids: 512 });
    expect(result.hooks.preRelease).toHaveLength(2);
    expect(result.hooks.preRelease[1]?.timeout).toBe(1_000);
  });

  test('${VAR} fills numbers, booleans and durations; ${tenantId} waits for claim time', () => {
    const text =
      'id: v\nimage: "app:${TAG:-dev}"\npool:\n  max_size: ${MAX}\n  affinity_timeout: ${AFF:-2m}\nread_only: ${RO}\n';
    const result = spec(text, { MAX: '4', RO: 'false' });
    expect([result.image, result.pool.maxSize, result.pool.affinityTimeout, result.readOnly]).toEqual([
      'app:dev',
      4,
      120_000,
      false,
    ]);
  });
});

describe('warnings about units that look wrong', () => {
  test.each([
    [
      'healthcheck:\n  test: "true"\n  interval: 0.5\n',
      'healthcheck.interval: warning: 500ms is very short; a bare number here is in seconds (write a unit, e.g. "30s", if you meant another)',
    ],
    [
      'healthcheck:\n  test: "true"\n  interval: 30000\n',
      'healthcheck.interval: warning: 8h20m is very long; a bare number here is in seconds (write a unit, e.g. "30s", if you meant another)',
    ],
    [
      'pool:\n  file_idle_ttl: 600\n',
      'pool.file_idle_ttl: warning: 600ms is very short; a bare number here is in milliseconds (write a unit, e.g. "30s", if you meant another)',
    ],
    [
      'pool:\n  affinity_timeout: 30\n',
      'pool.affinity_timeout: warning: 30ms is very short; a bare number here is in milliseconds (write a unit, e.g. "30s", if you meant another)',
    ],
    [
      'resources:\n  limits:\n    memory: 2\n',
      'resources.limits.memory: warning: 2MiB is too little for a container to start; a bare number here is in MiB (write "2G" for gigabytes)',
    ],
    [
      'resources:\n  limits:\n    memory: 2147483648\n',
      'resources.limits.memory: warning: 2048TiB is more than 1TiB; a bare number here is in MiB, not bytes (write "512M" or "2G")',
    ],
    [
      'volumes: {state: {target: /d}}\nsync:\n  mappings: [{path: x, direction: download}]\n  policy: {interval: 1m}\n',
      'sync.policy.interval: warning: no mapping uploads (direction upload or bidirectional), so interval saves nothing',
    ],
    [
      'hooks:\n  post_claim:\n    - command: x\n      retries: 2\n',
      'hooks.post_claim[0]: warning: retries has no effect unless on_error is retry (it is fail)',
    ],
    [
      'environment: [MISSING_VAR]\n',
      'environment[0]: warning: MISSING_VAR has no value and is not set in the environment; left out',
    ],
    [
      'volumes: {state: {target: /d}}\nsync:\n  sink:\n    type: s3\n    bucket: b-1\n    credentials: {access_key_id: "${K}", secret_access_key: "${S}"}\n',
      'sync.sink.credentials.access_key_id: warning: environment variable K is not set now; the sink will fail until it is',
    ],
  ])('%j', (extra, expected) => {
    const text = `id: w\nimage: i\n${extra}`;
    const listed = ['MISSING_VAR', 'K', 'S'];
    const result = load(text, {}, listed);
    expect(result.spec).toBeDefined();
    expect(warnings(text, {}, listed).map((line) => line.replace(/^w\.yaml:\d+:\d+ /, ''))).toContain(
      expected,
    );
  });
});

describe('the repository workloads', () => {
  test('the reference NanoClaw workload, verbatim, means what it obviously means', () => {
    const result = load(readFileSync(repoFile('packages/spec/test/reference-nanoclaw.yaml'), 'utf8'));
    expect(result.problems).toEqual([]);
    const nanoclaw = result.spec as WorkloadSpec;
    expect(nanoclaw.healthcheck).toMatchObject({
      interval: 30_000,
      timeout: 5_000,
      retries: 3,
      startPeriod: 30_000,
    });
    expect(nanoclaw.pool).toMatchObject({ minIdle: 1, maxSize: 20, fileIdleTtl: 600_000 });
    expect(nanoclaw.sync?.policy.interval).toBe(60_000);
    expect(nanoclaw.resources.limits).toMatchObject({ cpus: 2, memory: 2048 * MIB });
    expect(nanoclaw.security.user).toBe('1000');
    expect(nanoclaw.sync?.mappings).toHaveLength(6);
  });

  test('workloads/nanoclaw.yaml keeps the reference and adds the filtered socket, the gateway and wakes', () => {
    const reference = load(readFileSync(repoFile('packages/spec/test/reference-nanoclaw.yaml'), 'utf8'))
      .spec as WorkloadSpec;
    const result = load(readFileSync(repoFile('workloads/nanoclaw.yaml'), 'utf8'));
    expect(result.problems).toEqual([]);
    const nanoclaw = result.spec as WorkloadSpec;
    for (const key of ['image', 'resources', 'security'] as const) {
      expect(nanoclaw[key], key).toEqual(reference[key]);
    }
    // The reference's pool, plus the wakes it had no way to ask for (issue 16) and its boot ahead of the
    // claim (issue 19).
    expect({ ...nanoclaw.pool, wake: undefined, boot: undefined }).toEqual({
      ...reference.pool,
      wake: undefined,
      boot: undefined,
    });
    expect(nanoclaw.pool.boot).toBe('ahead');
    expect(reference.pool.wake).toBeUndefined();
    expect(nanoclaw.pool.wake).toEqual({ atFile: 'data/wake-at', every: 3_600_000 });
    expect(nanoclaw.gateway).toMatchObject({ port: 3847, auth: 'none' });
    expect({ ...nanoclaw.healthcheck, test: undefined }).toEqual({
      ...reference.healthcheck,
      test: undefined,
    });
    expect(nanoclaw.sync?.policy).toEqual(reference.sync?.policy);
    // The reference's mappings, and Gmail's tokens beside WhatsApp's (issue 21).
    const paths = nanoclaw.sync?.mappings.map((mapping) => mapping.path) ?? [];
    expect(paths.filter((path) => path !== 'store/gmail')).toEqual(
      reference.sync?.mappings.map((mapping) => mapping.path),
    );
    expect(paths).toContain('store/gmail');
    expect(nanoclaw.environment.DOCKER_HOST).toBeUndefined();
    expect(nanoclaw.docker?.images).toEqual(['nanoclaw-agent:latest']);
    expect(nanoclaw.volumes.secrets?.target).toBe('/app/.env');
  });

  test('workloads/echo.yaml is valid with a local sink', () => {
    const result = load(readFileSync(repoFile('workloads/echo.yaml'), 'utf8'));
    expect(result.problems).toEqual([]);
    expect(result.spec?.sync?.sink).toEqual({ type: 'local', path: 'sinks/echo' });
    expect(result.spec?.expose).toEqual([8080]);
  });
});
