/**
 * Reads `<home>/.env` into a plain object (the format: @boilerhouse/kit/env-file, the one the daemon writes
 * a workload's secrets in). It never touches `process.env`: the host picks the keys it knows from the
 * result, and only the model's settings go on to agent containers.
 */
import { readFileSync } from 'node:fs';
import { type EnvFileValue, parseEnvFile } from '@boilerhouse/kit/env-file';

export type { EnvFileValue };

/** The file's values, or an empty object when it does not exist. */
export function readEnvFile(path: string): Record<string, EnvFileValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseEnvFile(text, path);
}
