/** The echo workload saving to an S3 bucket (s3rver's one key pair, named by environment variables). */

import { S3RVER_CREDENTIALS } from '../../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import { echoWorkload } from '../../../packages/boilerhouse/src/testing/harness.ts';

/** What the daemon's environment needs for the workload's sink credentials. */
export const S3_ENV = {
  FAULT_S3_KEY: S3RVER_CREDENTIALS.accessKeyId,
  FAULT_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
  BOILERHOUSE_WORKLOAD_ENV: 'FAULT_S3_KEY,FAULT_S3_SECRET',
};

/** echo.yaml with its local sink replaced by the bucket at `endpoint`, and `replacements` applied. */
export function echoOnS3(
  endpoint: string,
  bucket: string,
  replacements: Record<string, string> = {},
): Promise<string> {
  return echoWorkload({
    ...replacements,
    '    type: local\n    path: sinks/echo': [
      '    type: s3',
      `    bucket: ${bucket}`,
      `    endpoint: ${endpoint}`,
      '    force_path_style: true',
      '    prefix: faults/${tenantId}/',
      '    credentials:',
      '      access_key_id: ${FAULT_S3_KEY}',
      '      secret_access_key: ${FAULT_S3_SECRET}',
    ].join('\n'),
  });
}
