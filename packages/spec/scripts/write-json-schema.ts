/** Writes packages/spec/workload.schema.json from the workload fields. Run with `npm run schema`. */
import { writeFileSync } from 'node:fs';
import { renderWorkloadJsonSchema } from '../src/workload/json-schema.ts';

const target = new URL('../workload.schema.json', import.meta.url);
writeFileSync(target, renderWorkloadJsonSchema());
console.log(`wrote ${target.pathname}`);
