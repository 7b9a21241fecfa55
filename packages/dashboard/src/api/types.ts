/** The API's shapes, named: all of them come from the generated schema.d.ts (the daemon's OpenAPI document). */
import type { components } from './schema.d.ts';

type Schemas = components['schemas'];

export type Pool = Schemas['Pool'];
export type Upgrade = Schemas['Upgrade'];
export type Instance = Schemas['Instance'];
export type Phase = Instance['phase'];
export type ActivityEvent = Schemas['Event'];
export type EventType = ActivityEvent['type'];
export type Claim = Schemas['Claim'];
export type ClaimPath = Claim['path'];
export type TenantSummary = Schemas['TenantSummary'];
export type Save = Schemas['Save'];
export type Wake = Schemas['Wake'];
export type Workload = Schemas['Workload'];
export type WorkloadFile = Schemas['WorkloadFile'];
export type WorkloadProblem = Schemas['WorkloadList']['problems'][number];
export type ErrorBody = Schemas['Error'];
