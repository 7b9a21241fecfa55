/**
 * The repository's NanoClaw workload for end-to-end tests and the claims benchmark: state in an S3 bucket
 * on a loopback s3rver (credentials as ${VAR} references, filled from the daemon's environment), and the
 * timings shortened so idle releases, reservations and saves happen within a test.
 */
import { readFile } from 'node:fs/promises';
import { S3RVER_CREDENTIALS } from '../../../packages/boilerhouse/src/state/sinks/s3-server.ts';

const WORKLOAD = new URL('../../../workloads/nanoclaw.yaml', import.meta.url);

export interface NanoclawWorkloadOptions {
  /** The workload id (and file name); another id makes a pool of its own. */
  id?: string;
  endpoint: string;
  bucket: string;
  minIdle: number;
  maxSize: number;
  fileIdleTtlMs: number;
  affinityTimeoutMs: number;
  intervalSaveMs: number;
  /** Extra host environment, e.g. NanoClaw's retry back-off. */
  environment?: Record<string, string>;
  /** YAML lines of a `hooks:` block, indented as top-level keys. */
  hooks?: string[];
}

/** The environment the daemon needs for the sink credentials the workload names (which it must allow). */
export const S3_ENV = {
  E2E_S3_KEY: S3RVER_CREDENTIALS.accessKeyId,
  E2E_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
  BOILERHOUSE_WORKLOAD_ENV: 'E2E_S3_KEY,E2E_S3_SECRET',
};

export async function nanoclawWorkload(options: NanoclawWorkloadOptions): Promise<string> {
  let text = await readFile(WORKLOAD, 'utf8');
  const replace = (from: string | RegExp, to: string) => {
    if (!(typeof from === 'string' ? text.includes(from) : from.test(text)))
      throw new Error(`workloads/nanoclaw.yaml has no ${String(from)} to replace`);
    text = text.replace(from, to);
  };
  if (options.id !== undefined) replace(/^id: nanoclaw$/m, `id: ${options.id}`);
  // A variable the file sets gets the test's value in its place; any other is added.
  for (const [key, value] of Object.entries(options.environment ?? {})) {
    const line = new RegExp(`^ {2}${key}: .*$`, 'm');
    if (line.test(text)) replace(line, `  ${key}: "${value}"`);
    else
      replace(
        '  CONTAINER_IMAGE: nanoclaw-agent:latest\n',
        `  CONTAINER_IMAGE: nanoclaw-agent:latest\n  ${key}: "${value}"\n`,
      );
  }
  // The health test every second from the start: a claim waits for it.
  replace(
    / {2}interval: 30\n {2}timeout: 5\n {2}retries: 3\n {2}start_period: 30\n/,
    '  interval: 1\n  timeout: 5\n  retries: 3\n  start_period: 30\n',
  );
  // The pool's sizes and times are the test's; how its instances boot stays the workload's.
  const boot = /^ {2}boot: (\S+)$/m.exec(text)?.[1];
  replace(
    /pool:\n(?: {2}.*\n)+/,
    [
      'pool:',
      ...(boot === undefined ? [] : [`  boot: ${boot}`]),
      `  min_idle: ${options.minIdle}`,
      `  max_size: ${options.maxSize}`,
      `  file_idle_ttl: ${options.fileIdleTtlMs}`,
      `  affinity_timeout: ${options.affinityTimeoutMs}`,
      '',
    ].join('\n'),
  );
  replace(
    /\n {2}sink:\n {4}type: s3\n(?: {4}.*\n)*/,
    [
      '',
      '  sink:',
      '    type: s3',
      `    bucket: ${options.bucket}`,
      '    region: us-east-1',
      `    endpoint: ${options.endpoint}`,
      '    force_path_style: true',
      '    credentials:',
      '      access_key_id: ${E2E_S3_KEY}',
      '      secret_access_key: ${E2E_S3_SECRET}',
      '',
    ].join('\n'),
  );
  replace(/ {4}interval: 60000 .*\n/, `    interval: ${options.intervalSaveMs}\n`);
  if (options.hooks !== undefined) text += `\nhooks:\n${options.hooks.join('\n')}\n`;
  return text;
}
