/** The JSON Schema of workload files, for editors: generated from the same fields that validate them. */
import type { JsonSchema } from '../schema/json-schema.ts';
import { workloadField } from './workload.ts';

export function workloadJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Boilerhouse workload',
    ...workloadField.jsonSchema(),
  };
}

/** The committed file's exact text, so a test can tell when it is stale. */
export function renderWorkloadJsonSchema(): string {
  return `${JSON.stringify(workloadJsonSchema(), null, 2)}\n`;
}
