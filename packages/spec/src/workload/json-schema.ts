/** The JSON Schema of workload files, for editors: generated from the same fields that validate them. */
import type { JsonSchema } from '../schema/json-schema.ts';
import { workloadField } from './workload.ts';

export const WORKLOAD_SCHEMA_ID = 'https://boilerhouse.dev/schemas/workload.schema.json';

export function workloadJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: WORKLOAD_SCHEMA_ID,
    title: 'Boilerhouse workload',
    ...workloadField.jsonSchema(),
  };
}
