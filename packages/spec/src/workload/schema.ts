/**
 * The workload file, field by field: the one source of the typed spec, the validation messages, the
 * defaults and the JSON Schema. Field names follow docker-compose where compose has them.
 *
 * Units of bare numbers: compose's `healthcheck` block counts seconds (as the NanoClaw reference file
 * writes `interval: 30`); Boilerhouse's own blocks (`pool`, `sync`, `hooks`) count milliseconds (as it
 * writes `file_idle_ttl_ms: 600000`). Memory is MiB. Strings with units (`30s`, `512M`) mean what they say.
 */
import { list, taggedUnion } from '../schema/collections.ts';
import { refineField } from '../schema/field.ts';
import { defaulted, object, optional, required } from '../schema/object.ts';
import { boolean, duration, integer, memory, number, oneOf, string } from '../schema/scalars.ts';
import { capability } from './capabilities.ts';
import {
  commandLine,
  containerPath,
  containerPort,
  environment,
  healthTest,
  localSinkPath,
  relativePath,
  secretReference,
  workloadsDirPath,
} from './fields.ts';
import { retention } from './retention.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const MIB = 1024 * 1024;

export const WORKLOAD_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ID_HINT =
  'lowercase letters, digits and hyphens, starting and ending with a letter or digit (at most 63)';

function limits(defaults: { cpus: number; memory: number; pids: number }) {
  return object({
    cpus: defaulted(
      number({ above: 0 }),
      defaults.cpus,
      'CPU cores the container may use (fractions allowed).',
    ),
    memory: defaulted(memory(), defaults.memory, 'Memory limit, in bytes once loaded.'),
    pids: defaulted(integer({ min: 1 }), defaults.pids, 'Most processes and threads the container may run.'),
  });
}

const INSTANCE_LIMITS = { cpus: 1, memory: 512 * MIB, pids: 512 };
const CHILD_LIMITS = { cpus: 1, memory: 1024 * MIB, pids: 256 };

const resources = object({
  limits: defaulted(limits(INSTANCE_LIMITS), INSTANCE_LIMITS, 'Resource limits of each instance.'),
});

const volume = (readOnlyByDefault: boolean) =>
  object({
    target: required(containerPath(), 'Where it is mounted in the container: a directory, or a file path.'),
    read_only: defaulted(boolean(), readOnlyByDefault, 'Mount it read-only.'),
  });

const customVolume = object({
  name: required(
    string({ pattern: /^[a-z0-9][a-z0-9_-]*$/, patternHint: 'lowercase letters, digits, _ and -' }),
    'Name of the volume, unique in this workload.',
  ),
  target: required(containerPath(), 'Where it is mounted in the container: a directory, or a file path.'),
  read_only: defaulted(boolean(), false, 'Mount it read-only.'),
  seed: optional(
    workloadsDirPath(),
    'A file or directory of the workloads directory (a relative path that stays inside it) copied into the volume when an instance is created. Links in it are copied as links, never followed.',
  ),
});

const volumes = object({
  state: optional(volume(false), "The tenant's state: restored on claim and saved to the sink."),
  secrets: optional(
    volume(true),
    "The tenant's secrets, in memory only: never synced; kept while the instance is claimed or reserved for its tenant (a reserved assistant keeps running), removed when it is destroyed.",
  ),
  comm: optional(volume(false), 'Files shared with Boilerhouse while the instance runs; never synced.'),
  custom: defaulted(list(customVolume), [], 'More per-instance volumes.'),
});

const healthcheck = object({
  test: required(healthTest(), 'The check command; exit status 0 means healthy.'),
  interval: defaulted(
    duration({ bare: 's', warnBelowMs: SECOND, warnAboveMs: HOUR }),
    30 * SECOND,
    'Time between liveness checks once the instance is up.',
  ),
  timeout: defaulted(
    duration({ bare: 's', warnBelowMs: 100, warnAboveMs: 10 * MINUTE }),
    30 * SECOND,
    'How long one check may take.',
  ),
  retries: defaulted(integer({ min: 1 }), 3, 'Consecutive failures before the instance is unhealthy.'),
  start_period: defaulted(
    duration({ bare: 's', warnAboveMs: HOUR }),
    0,
    'Start-up time during which failures do not count.',
  ),
  start_interval: defaulted(
    duration({ bare: 's', warnAboveMs: MINUTE }),
    5 * SECOND,
    'Longest time between checks while the instance starts (Boilerhouse checks sooner, backing off up to this).',
  ),
});

const pool = object(
  {
    min_idle: defaulted(integer({ min: 0 }), 1, 'Ready, unclaimed instances to keep warm.'),
    max_size: defaulted(integer({ min: 1 }), 10, 'Most instances of this workload at once, claimed or not.'),
    affinity_timeout: defaulted(
      duration({ bare: 'ms', warnBelowMs: SECOND }),
      30 * MINUTE,
      'How long a released instance stays reserved for its last tenant.',
    ),
    reserve: defaulted(
      oneOf(['run', 'pause']),
      'run',
      'What a reserved instance does: keep running (hears its channels) or pause (no CPU).',
    ),
    boot: defaulted(
      oneOf(['at_claim', 'ahead']),
      'at_claim',
      "at_claim: the workload's process starts once a claim has put its tenant's state in place. ahead: it starts with its container, before any claim, and waits for the start message on the FIFO named by $BOILERHOUSE_START before it touches its state (the image must do so).",
    ),
    file_idle_ttl: optional(
      duration({ bare: 'ms', warnBelowMs: SECOND }),
      "Release a claimed instance after its tenant's files have not changed for this long.",
    ),
    wake: optional(
      object({
        at_file: optional(
          relativePath('the state volume'),
          'A file of the state volume holding the time (RFC 3339) its tenant next needs to run; read at every save, the tenant is claimed then.',
        ),
        every: optional(
          duration({ bare: 'ms', warnBelowMs: MINUTE }),
          'Claim each released tenant this often, to catch up (messages waiting on a channel).',
        ),
      }),
      'When Boilerhouse claims a released tenant by itself; the idle release lets it go again.',
    ),
  },
  {
    aliases: {
      min_size: 'min_idle',
      file_idle_ttl_ms: 'file_idle_ttl',
      affinity_timeout_ms: 'affinity_timeout',
    },
  },
);

const gateway = object({
  port: required(containerPort(), 'The container port the gateway forwards tenant traffic to.'),
  auth: defaulted(
    oneOf(['token', 'none']),
    'token',
    'token: the gateway admits only holders of a link Boilerhouse minted for the tenant; none: the workload authenticates callers itself.',
  ),
  wake_timeout: defaulted(
    duration({ bare: 'ms', warnBelowMs: SECOND }),
    30 * SECOND,
    'How long a request for a released tenant waits for its instance to be claimed and ready.',
  ),
  activity: defaulted(
    boolean(),
    true,
    "Requests and open streams through the gateway hold off the idle release, as the tenant's writes do.",
  ),
});

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const localSink = object(
  {
    type: required(oneOf(['local']), 'A directory on the Boilerhouse host.'),
    path: optional(
      localSinkPath(),
      "The directory, inside Boilerhouse's sinks folder and written relative to its data directory (sinks/echo). Default: the sinks folder itself.",
    ),
  },
  { expected: 'a local sink' },
);

const s3SinkFields = object(
  {
    type: required(oneOf(['s3']), 'An S3-compatible bucket.'),
    bucket: required(
      string({
        pattern: S3_BUCKET,
        patternHint: 'an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens',
      }),
      'The bucket.',
    ),
    region: defaulted(
      string({ pattern: /^[A-Za-z0-9_-]+$/, patternHint: 'letters, digits, _ and -, such as us-east-1' }),
      'us-east-1',
      'The region.',
    ),
    prefix: optional(string(), 'Key prefix; ${tenantId} is filled in per tenant.'),
    endpoint: optional(
      string({ pattern: /^https?:\/\/[^\s/]+/, patternHint: 'an http:// or https:// URL' }),
      'Endpoint of an S3-compatible server other than AWS.',
    ),
    force_path_style: defaulted(
      boolean(),
      false,
      'Address the bucket in the path rather than the host name.',
    ),
    credentials: optional(
      object({
        access_key_id: required(secretReference(), 'Access key id.'),
        secret_access_key: required(secretReference(), 'Secret access key.'),
        session_token: optional(secretReference(), 'Session token.'),
      }),
      'Credentials as ${VAR} references. Without them the standard AWS chain (environment, profile, role) is used.',
    ),
  },
  { expected: 'an s3 sink' },
);

// The standard chain would sign with the daemon's own AWS credentials, and the access key id and session
// token travel in clear headers: never to a server the workload author chose.
const s3Sink = refineField(s3SinkFields, (sink, report) => {
  if (sink.endpoint !== undefined && sink.credentials === undefined) {
    report.error(
      "an S3 sink with an endpoint must name its credentials (${VAR} references): the daemon's own AWS credentials are never sent to an endpoint a workload chose",
    );
  }
});

const mapping = object({
  path: defaulted(relativePath('the state volume'), '.', 'File or directory in the state volume.'),
  pattern: optional(
    string({ minLength: 1 }),
    'Glob of the files under `path` that this mapping moves, e.g. "*.db*".',
  ),
  direction: defaulted(
    oneOf(['download', 'upload', 'bidirectional']),
    'bidirectional',
    'download: restored on claim; upload: saved on release and interval; bidirectional: both.',
  ),
  mode: defaulted(
    oneOf(['sync', 'copy']),
    'copy',
    'sync mirrors, deleting what the source no longer has; copy only adds and overwrites.',
  ),
  sink_path: optional(relativePath('the sink'), 'Where it goes in the sink; default: the same as `path`.'),
});

const policy = object({
  on_claim: defaulted(boolean(), true, 'Restore state before the workload process starts.'),
  on_release: defaulted(boolean(), true, 'Save state before the instance is reserved.'),
  interval: optional(
    duration({ bare: 'ms', warnBelowMs: SECOND }),
    'Save periodically while claimed, skipping when nothing changed. 0 turns it off.',
  ),
  manual: defaulted(boolean(), false, 'Allow saves and restores on request through the API.'),
});

const sync = object({
  sink: defaulted(
    taggedUnion(
      'type',
      { local: localSink, s3: s3Sink },
      { expected: 'a sink: {type: local, ...} or {type: s3, ...}' },
    ),
    { type: 'local' as const },
    'Where tenant state is kept.',
  ),
  mappings: defaulted(list(mapping), [], 'What moves between the state volume and the sink.'),
  retention: defaulted(
    retention(),
    { count: 10 },
    'Saves kept per tenant: a count, an age or both; the others are pruned, never the current save or anything a kept save needs.',
  ),
  policy: defaulted(policy, { onClaim: true, onRelease: true, manual: false }, 'When state moves.'),
});

const hook = refineField(
  object({
    command: required(commandLine({ shellForString: true }), 'Command run inside the instance.'),
    timeout: defaulted(duration({ bare: 'ms', warnBelowMs: 100 }), 30 * SECOND, 'How long it may run.'),
    on_error: defaulted(
      oneOf(['fail', 'continue', 'retry']),
      'fail',
      'On failure: fail the claim or release, carry on, or retry.',
    ),
    retries: optional(
      integer({ min: 0, max: 100 }),
      'Attempts after the first, with on_error: retry (default 3).',
    ),
  }),
  (value, report) => {
    if (value.retries !== undefined && value.onError !== 'retry') {
      report.warn(`retries has no effect unless on_error is retry (it is ${value.onError})`);
    }
  },
);

const hooks = object({
  post_claim: defaulted(
    list(hook),
    [],
    'Run after state is restored and the instance is handed to the tenant.',
  ),
  pre_release: defaulted(list(hook), [], 'Run before state is saved on release.'),
});

const docker = object({
  images: required(
    list(string({ minLength: 1 }), { minItems: 1, expected: 'a list of image names' }),
    'Images its containers may use; `*` matches any characters, e.g. "nanoclaw-agent:*".',
  ),
  max_containers: defaulted(integer({ min: 1 }), 5, 'Most containers it may run at once.'),
  limits: defaulted(limits(CHILD_LIMITS), CHILD_LIMITS, 'Resource caps of each container it starts.'),
  exec: defaulted(boolean(), false, 'Allow `docker exec` in the containers it started.'),
  on_release: defaulted(
    oneOf(['remove', 'keep']),
    'remove',
    "What a release does with the containers it started. remove: they go before its state is saved. keep: they keep running through the instance's reservation (`reserve: run` only), so a tenant back in time finds them as they were; they go before the reservation's last save.",
  ),
  read_only: defaulted(
    boolean(),
    true,
    'Give its containers a read-only root filesystem (with a tmpfs at /tmp unless they mount one).',
  ),
  capabilities: defaulted(
    list(capability(), { expected: 'a list of Linux capability names' }),
    [],
    'Capabilities its containers may add back (HostConfig.CapAdd); every other one is dropped. Those that reach the host are refused.',
  ),
});

const user = string({
  coerce: true,
  pattern: /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/,
  patternHint: 'uid[:gid] or name[:group]',
});

const deploy = object({
  resources: required(resources, 'Same as the top-level resources block.'),
});

export const workloadObject = object(
  {
    id: required(string({ pattern: WORKLOAD_ID, patternHint: ID_HINT }), 'Identifier of the workload.'),
    name: optional(string({ minLength: 1 }), 'Display name. Default: the id.'),
    image: required(
      string({
        pattern: /^[^\s]+$/,
        patternHint: 'an image reference without spaces',
        expected: 'an image reference such as "nanoclaw:latest"',
      }),
      'The image to run; it must exist locally.',
    ),
    command: optional(commandLine({ shellForString: false }), "Replaces the image's CMD."),
    entrypoint: optional(commandLine({ shellForString: false }), "Replaces the image's ENTRYPOINT."),
    environment: defaulted(environment(), {}, 'Environment variables. ${VAR} is filled in at load time.'),
    expose: defaulted(
      list(containerPort()),
      [],
      'Container ports the workload serves; each gets an endpoint.',
    ),
    ports: optional(list(containerPort()), 'Compose spelling of `expose`; container ports only.'),
    volumes: defaulted(volumes, { custom: [] }, 'Per-instance volumes, kept as host directories.'),
    security: defaulted(
      object({
        user: optional(user, 'User (and group) the workload runs as: "1000", "1000:1000" or a name.'),
      }),
      {},
      'Security settings.',
    ),
    user: optional(user, 'Compose spelling of `security.user`.'),
    read_only: defaulted(
      boolean(),
      true,
      'Mount the root filesystem read-only (volumes and /tmp stay writable).',
    ),
    network_mode: defaulted(oneOf(['bridge', 'none']), 'bridge', 'bridge, or none for no network at all.'),
    resources: defaulted(resources, { limits: INSTANCE_LIMITS }, 'Resource limits.'),
    deploy: optional(deploy, 'Compose spelling of `resources` (deploy.resources.limits).'),
    healthcheck: optional(healthcheck, 'How Boilerhouse knows an instance is ready and still alive.'),
    pool: defaulted(
      pool,
      {
        minIdle: 1,
        maxSize: 10,
        affinityTimeout: 30 * MINUTE,
        reserve: 'run' as const,
        boot: 'at_claim' as const,
      },
      'Pool sizing and reservation.',
    ),
    sync: optional(sync, "How the tenant's state is saved and restored."),
    hooks: defaulted(
      hooks,
      { postClaim: [], preRelease: [] },
      'Commands run in the instance around claim and release.',
    ),
    docker: optional(docker, 'Gives the workload a filtered Docker socket to start containers of its own.'),
    gateway: optional(
      gateway,
      "Serves the workload's tenants at Boilerhouse's gateway: one stable address per tenant that authenticates and wakes.",
    ),
  },
  {
    expected: 'a workload mapping',
    description: 'A Boilerhouse workload.',
    extensions: true,
    refused: {
      cap_add: 'cap_add is refused: Boilerhouse drops every capability and adds none back',
      privileged: 'privileged is refused: instances never run privileged',
    },
  },
);
