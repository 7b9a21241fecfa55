/** @module @boilerhouse/spec: workload files -> validated, typed `WorkloadSpec`; units; JSON Schema. */
export { declaredWorkloadId } from './declared-id.ts';
export { CLAIM_TIME_VARIABLES, type Environment } from './interpolate.ts';
export { formatProblem, type LoadOptions, type LoadResult, loadWorkload } from './load.ts';
export type { Problem, Severity } from './schema/field.ts';
export { formatBytes, formatDuration, parseDuration, parseMemory, UnitError } from './units.ts';
export {
  capabilityName,
  GRANTABLE_CAPABILITIES,
  REFUSED_CAPABILITIES,
} from './workload/capabilities.ts';
export { type ChildUser, childUser, NOBODY } from './workload/child-user.ts';
export type { HealthTest, SecretReference } from './workload/fields.ts';
export { workloadJsonSchema } from './workload/json-schema.ts';
export type { Retention } from './workload/retention.ts';
export { WORKLOAD_ID } from './workload/schema.ts';
export type {
  DockerAccessSpec,
  HealthcheckSpec,
  HookSpec,
  LocalSink,
  PoolSpec,
  ResourceLimits,
  S3Sink,
  Sink,
  SyncMapping,
  SyncPolicy,
  SyncSpec,
  VolumesSpec,
  WorkloadSpec,
} from './workload/workload.ts';
export {
  type VariableAccess,
  WORKLOAD_ENV_SETTING,
  WorkloadEnvironment,
  WorkloadEnvSettingError,
  workloadEnvironment,
} from './workload-env.ts';
