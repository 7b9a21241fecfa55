/**
 * The JSON Schemas (2020-12) of the bodies views.ts builds, one named component each. Routes point at them
 * with `refTo('Pool')`; the OpenAPI document carries them under `components.schemas`; the API tests check
 * every success response they receive against them (testing/api.ts). Objects are closed
 * (`additionalProperties: false`), so a field added to a view without its schema fails those tests.
 */
import { EVENT_TYPES } from '../db/events.ts';
import { PHASES } from '../db/instances.ts';
import { WAKE_TRIGGERS } from '../db/wakes.ts';
import { MOVE_OUTCOMES } from '../pool/upgrades.ts';
import { WORKLOAD_PROBLEM_KINDS } from '../pool/workload-problems.ts';
import { SCOPES } from './auth.ts';
import type { JsonSchema } from './route.ts';

const string = (description?: string) => ({ type: 'string', ...(description ? { description } : {}) });
const integer = (description?: string) => ({
  type: 'integer',
  minimum: 0,
  ...(description ? { description } : {}),
});
const time = (description: string) => ({ type: 'string', format: 'date-time', description });
const timeOrNull = (description: string) => ({ type: ['string', 'null'], format: 'date-time', description });
const stringOrNull = (description: string) => ({ type: ['string', 'null'], description });
const listOf = (schema: JsonSchema) => ({ type: 'array', items: schema });

/** A closed object: every property listed is required unless named in `optional`. */
function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  };
}

const endpoint = object({
  port: { type: 'integer', minimum: 1, maximum: 65535, description: 'the port inside the container' },
  url: string('where the port is published'),
});

const instanceProperties = {
  id: string(),
  workload: string(),
  version: string("the workload file's version the instance was made from"),
  version_status: {
    enum: ['current', 'old'],
    description:
      "old: made from an earlier version of its workload's file; its tenant moves to the current one at its next release (POST /api/v1/workloads/{id}/upgrade says when, or moves it now)",
  },
  phase: { enum: [...PHASES] },
  tenant: stringOrNull('the tenant it serves or is reserved for'),
  container_id: stringOrNull('null until its container exists'),
  endpoints: listOf(refTo('Endpoint')),
  reason: stringOrNull('why it is in its phase, when that needs saying (failed, release_failed)'),
  created_at: time('when it was made'),
  phase_changed_at: time('when it entered its phase'),
  claimed_at: timeOrNull('when its tenant last claimed it'),
  reserved_until: timeOrNull('when its reservation for its last tenant ends'),
  idle_release_at: time(
    "claimed, with a file_idle_ttl: when it is released unless its tenant's files change",
  ),
};

const reachProperties = {
  tenants: {
    type: ['array', 'null'],
    items: string(),
    description: 'the only tenants it may act on and see; null: every tenant',
  },
  workloads: {
    type: ['array', 'null'],
    items: string(),
    description: 'the only workloads it may act on and see; null: every workload',
  },
};

const linkProperties = {
  id: string('the link id'),
  workload: string(),
  tenant: string(),
  created_at: time('when it was minted'),
  expires_at: timeOrNull('null: never'),
};

const tokenProperties = {
  id: { type: 'string', pattern: '^[0-9a-f]{12}$' },
  name: string(),
  scopes: { type: 'array', items: { enum: [...SCOPES] } },
  ...reachProperties,
  created_at: time('when it was made'),
  expires_at: timeOrNull('null: never'),
  last_used_at: timeOrNull('to the minute; null: never used'),
};

const saveProperties = {
  seq: { type: 'integer', minimum: 1, description: "the save's number; numbers only grow" },
  created_at: time('when it was saved'),
  instance: string('the instance it was saved from'),
  files: integer('how many files'),
  bytes: integer('their total size'),
};

const workloadIdentity = {
  id: string(),
  name: string('its `name`, or its id'),
  version: string("the loaded file's version (a resize is not a new version)"),
  file: string('the workload file'),
  removed: { type: 'boolean', description: 'the file is gone: no new instances' },
};

export const viewSchemas = {
  Health: object({ status: { const: 'ok' }, daemon: string("this daemon's id") }),
  Endpoint: endpoint,
  Instance: object(instanceProperties, ['endpoints', 'idle_release_at']),
  InstanceList: object({ instances: listOf(refTo('Instance')) }),
  Claim: object({
    tenant: string(),
    workload: string(),
    instance: refTo('Instance'),
    endpoints: listOf(refTo('Endpoint')),
    path: {
      enum: ['hit', 'warm', 'cold'],
      description: 'hit: its reserved instance back; warm: a ready one; cold: one made for it',
    },
    timings_ms: {
      type: 'object',
      description: 'milliseconds per step, and in total',
      properties: { total: { type: 'number' } },
      required: ['total'],
      additionalProperties: { type: 'number' },
    },
  }),
  Release: object({
    tenant: string(),
    workload: string(),
    outcome: {
      enum: ['reserved', 'destroyed', 'saving'],
      description:
        'kept for the tenant (affinity), destroyed, or still saving when the answer could wait no longer (the save goes on; a failure shows as release_failed, retried)',
    },
    instance: { anyOf: [refTo('Instance'), { type: 'null' }] },
    timings_ms: object({ total: { type: 'number' } }),
  }),
  Pool: object({
    workload: string(),
    version: string(),
    file: string(),
    removed: { type: 'boolean' },
    min_idle: integer('ready instances kept (the scaled value if set, else the file’s)'),
    max_size: integer('instances at most, in every phase'),
    scaled: {
      ...object({ min_idle: integer(), max_size: integer() }, ['min_idle', 'max_size']),
      description: "the sizes an operator set over the file's (scale, drain)",
    },
    instances: {
      ...object(Object.fromEntries(PHASES.map((phase) => [phase, integer()]))),
      description: 'how many instances are in each phase',
    },
    old_version: {
      ...object(Object.fromEntries(PHASES.map((phase) => [phase, integer()]))),
      description:
        'of those, how many were made from an older version of the workload file: ready ones are replaced at once, reserved ones saved and replaced, claimed ones move at their next release',
    },
    fill: object({
      consecutive_failures: integer('instances that failed to start in a row'),
      last_error: stringOrNull('why the last one failed'),
      last_error_at: timeOrNull('when'),
      backoff_until: timeOrNull('no new attempt before this'),
    }),
  }),
  PoolList: object({ pools: listOf(refTo('Pool')) }),
  Upgrade: object({
    workload: string(),
    version: string('the version tenants move to: the loaded file’s'),
    now: { type: 'boolean', description: 'false: what will happen (nothing was moved); true: moved now' },
    idle_old_instances: integer('instances of an old version that hold no tenant: replaced at once'),
    tenants: {
      ...listOf(
        object({
          tenant: string(),
          instance: string('its instance of an old version'),
          version: string('that instance’s version'),
          phase: { enum: [...PHASES], description: 'its phase when the upgrade looked at it' },
          outcome: {
            enum: [...MOVE_OUTCOMES],
            description:
              'next_release: moves when released; replacing: reserved, saved and replaced now by the fill loop; moved / replaced: done (saved first); resuming: saved and its old instance gone, but the claim on the new version failed: claimed again in the background; failed: left where it was, data intact; skipped: not moved now',
          },
          to: stringOrNull('its instance of the current version, once moved'),
          message: string('what happened or will happen, in words'),
        }),
      ),
      description: 'every tenant on an old version, in the order they were moved or looked at',
    },
  }),
  Event: object({
    id: { type: 'integer', minimum: 1, description: 'grows with every event; the stream resumes after it' },
    at: time('when it happened'),
    type: { enum: [...EVENT_TYPES] },
    workload: stringOrNull('the workload it concerns'),
    tenant: stringOrNull('the tenant it concerns'),
    instance: stringOrNull('the instance it concerns'),
    message: string(),
    data: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'details by type: a claim has `path` and `timingsMs`',
    },
  }),
  EventList: object({ events: listOf(refTo('Event')) }),
  Tenant: object({
    tenant: string(),
    instances: listOf(refTo('Instance')),
    wakes: { ...listOf(refTo('Wake')), description: 'when Boilerhouse claims it next by itself (pool.wake)' },
  }),
  Wake: object({
    workload: string(),
    tenant: string(),
    trigger: {
      enum: [...WAKE_TRIGGERS],
      description:
        "schedule: the time in the workload's wake file (pool.wake.at_file); every: pool.wake.every",
    },
    due_at: time('when the tenant is claimed; a time past is due now'),
    set_at: time('when it was set (the save that read it, or the last wake)'),
  }),
  WakeList: object({ wakes: listOf(refTo('Wake')) }),
  TenantSummary: object({
    tenant: string(),
    instances: listOf(object({ id: string(), workload: string(), phase: { enum: [...PHASES] } })),
  }),
  TenantList: object({ tenants: listOf(refTo('TenantSummary')) }),
  Save: object(saveProperties),
  DamagedSave: object(
    {
      seq: { type: 'integer', minimum: 1, description: 'the save; absent when HEAD itself is damaged' },
      key: string('the damaged or missing object in the sink'),
      reason: string('what is wrong with it'),
    },
    ['seq'],
  ),
  Snapshots: object({
    tenant: string(),
    workload: string(),
    head: { type: ['integer', 'null'], description: 'the current save; null when there is none' },
    saves: listOf(refTo('Save')),
    damaged: {
      ...listOf(refTo('DamagedSave')),
      description:
        'saves (and HEAD) that cannot be read, left in the sink untouched; restore an older save instead',
    },
  }),
  Restored: object({
    tenant: string(),
    workload: string(),
    restored: integer('the save put back'),
    head: integer('the new current save, a copy of it'),
  }),
  Sync: object({
    tenant: string(),
    workload: string(),
    direction: { enum: ['upload'] },
    save: {
      anyOf: [
        object({
          seq: { type: ['integer', 'null'], description: 'the current save after this one' },
          changed: { type: 'boolean', description: 'false: nothing had changed, no save was written' },
          files: integer('files in the save'),
          uploaded_files: integer('files sent'),
          uploaded_bytes: integer('bytes sent'),
        }),
        { type: 'null' },
      ],
    },
  }),
  SecretKeys: object({
    tenant: string(),
    workload: string(),
    keys: listOf(string()),
    shadowed: {
      ...listOf(string()),
      description:
        "stored names the workload's environment sets too: a workload that reads its environment first (NanoClaw) never sees these values",
    },
  }),
  SecretNames: object({
    tenant: string(),
    secrets: listOf(
      object({ workload: string(), keys: listOf(string()), updated_at: time('when they were last set') }),
    ),
  }),
  Token: object(tokenProperties),
  TokenCreated: object({ ...tokenProperties, token: string('the token itself, shown this once') }),
  TokenList: object({ tokens: listOf(refTo('Token')) }),
  Link: object(linkProperties),
  LinkCreated: object({
    ...linkProperties,
    url: string("opens the tenant's address at the gateway and sets its cookie; shown this once"),
  }),
  LinkList: object({ links: listOf(refTo('Link')) }),
  Caller: object({
    id: string('the token id; `admin` for the admin key'),
    name: string(),
    scopes: { type: 'array', items: { enum: [...SCOPES] } },
    ...reachProperties,
    expires_at: timeOrNull('null: never'),
  }),
  Workload: object({
    ...workloadIdentity,
    image: string(),
    min_idle: integer('with any scale applied'),
    max_size: integer('with any scale applied'),
    keeps_state: { type: 'boolean', description: 'it has `sync`: tenants have saves' },
    takes_secrets: { type: 'boolean', description: 'it has a secrets volume: tenants can have secrets' },
  }),
  WorkloadList: object({
    workloads: listOf(refTo('Workload')),
    problems: {
      ...listOf(
        object({
          file: string('the file in the workloads directory'),
          workload: stringOrNull('the workload concerned (the version kept, or the id the file declares)'),
          kind: {
            enum: WORKLOAD_PROBLEM_KINDS,
            description:
              'unreadable or invalid (the previous version, if any, is kept), duplicate (another file has its id: ignored), sink (loaded, but its sink cannot be used)',
          },
          message: string('what is wrong and what Boilerhouse does meanwhile'),
          details: listOf(object({ path: string('FILE:LINE:COL and the field path'), message: string() })),
          since: time('when it was first seen'),
        }),
      ),
      description: 'what keeps files of the workloads directory from being served as written, until fixed',
    },
  }),
  WorkloadFile: object({
    ...workloadIdentity,
    source: string("the file's text as it is on disk now"),
    problems: {
      ...listOf(
        object({
          path: string('FILE:LINE:COL and the field path'),
          message: string(),
          severity: { enum: ['error', 'warning'] },
        }),
      ),
      description:
        'what validation says of the text on disk; with an error, the previous version stays loaded',
    },
  }),
  WorkloadApplied: object({
    id: string(),
    version: string(),
    file: string(),
    created: { type: 'boolean', description: 'a new workload (false: an existing one replaced)' },
    warnings: {
      ...listOf(
        object({
          path: string('FILE:LINE:COL and the field path, or FILE and the field'),
          message: string(),
        }),
      ),
      description: 'what validation warns of (a unit that looks wrong, ...) and images not on this host',
    },
  }),
  OpenApiDocument: {
    type: 'object',
    description: 'an OpenAPI 3.1 document',
    properties: { openapi: { const: '3.1.0' } },
    required: ['openapi', 'info', 'paths', 'components'],
  },
} satisfies Record<string, JsonSchema>;

export type ViewSchemaName = keyof typeof viewSchemas;

/** A reference to a view's schema, as routes use it. */
export function ref(name: ViewSchemaName): JsonSchema {
  return refTo(name);
}

// Untyped for use inside `viewSchemas` (its names are not known while it is being built); the OpenAPI
// document refuses a reference to a schema that does not exist.
function refTo(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}
