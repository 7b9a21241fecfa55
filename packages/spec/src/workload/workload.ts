/**
 * The typed workload spec and the field that produces it: the schema's parse, then compose aliases folded
 * into their Boilerhouse spellings, derived defaults filled in, and the checks that span several fields.
 */
import type { Node } from 'yaml';
import { type Field, type FieldValue, INVALID, type ParseContext, type Path } from '../schema/field.ts';
import { checkWorkload } from './checks.ts';
import { hasKey, locate } from './locate.ts';
import { workloadObject } from './schema.ts';

type RawWorkload = FieldValue<typeof workloadObject>;
type RawSync = NonNullable<RawWorkload['sync']>;

export type Sink = RawSync['sink'];
export type LocalSink = Extract<Sink, { type: 'local' }>;
export type S3Sink = Extract<Sink, { type: 's3' }>;
export type SyncMapping = RawSync['mappings'][number];
export type SyncPolicy = RawSync['policy'];
export type SyncSpec = RawSync;
export type HookSpec = RawWorkload['hooks']['postClaim'][number];
export type HealthcheckSpec = NonNullable<RawWorkload['healthcheck']>;
export type PoolSpec = RawWorkload['pool'];
export type VolumesSpec = RawWorkload['volumes'];
export type ResourceLimits = RawWorkload['resources']['limits'];
export type DockerAccessSpec = NonNullable<RawWorkload['docker']>;

/**
 * A validated workload. Durations are milliseconds and memory sizes bytes, whatever the file wrote.
 * `sync` is present exactly when the workload has a state volume.
 */
export type WorkloadSpec = Omit<RawWorkload, 'name' | 'user' | 'ports' | 'deploy'> & { name: string };

/** With no mappings, the whole state volume is saved and restored as one mirrored tree. */
export const WHOLE_STATE_VOLUME: SyncMapping = { path: '.', direction: 'bidirectional', mode: 'sync' };

const DEFAULT_SYNC: SyncSpec = {
  sink: { type: 'local' },
  mappings: [],
  retention: { count: 10 },
  policy: { onClaim: true, onRelease: true, manual: false },
};

export const workloadField: Field<WorkloadSpec> = {
  expected: workloadObject.expected,
  jsonSchema: () => workloadObject.jsonSchema(),
  parse(node, path, context) {
    const raw = workloadObject.parse(node, path, context);
    if (raw === INVALID) return INVALID;
    const spec = foldAliases(raw, node, context);
    if (spec === INVALID) return INVALID;
    return checkWorkload(spec, { node, context }) ? spec : INVALID;
  },
};

/** Compose spellings (`user`, `ports`, `deploy.resources`) become Boilerhouse's; a clash is an error. */
function foldAliases(raw: RawWorkload, node: Node, context: ParseContext): WorkloadSpec | typeof INVALID {
  const { user, ports, deploy, name, ...rest } = raw;
  let valid = true;
  const clash = (alias: Path, canonical: string) => {
    const at = locate(node, alias, context);
    context.error(at.node, at.path, `"${alias.join('.')}" and "${canonical}" are the same setting; keep one`);
    valid = false;
  };
  const spec: WorkloadSpec = { ...rest, name: name ?? raw.id };
  if (user !== undefined) {
    if (spec.security.user !== undefined) clash(['user'], 'security.user');
    else spec.security = { ...spec.security, user };
  }
  if (ports !== undefined) {
    if (hasKey(node, 'expose', context)) clash(['ports'], 'expose');
    else spec.expose = ports;
  }
  if (deploy !== undefined) {
    if (hasKey(node, 'resources', context)) clash(['deploy', 'resources'], 'resources');
    else spec.resources = deploy.resources;
  }
  if (spec.volumes.state !== undefined && spec.sync === undefined) spec.sync = structuredClone(DEFAULT_SYNC);
  if (spec.sync !== undefined) {
    if (spec.sync.mappings.length === 0) spec.sync.mappings = [{ ...WHOLE_STATE_VOLUME }];
    if (spec.sync.policy.interval === 0) {
      const { interval: _off, ...policy } = spec.sync.policy;
      spec.sync.policy = policy;
    }
  }
  return valid ? spec : INVALID;
}
