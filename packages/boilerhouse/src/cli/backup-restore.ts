/**
 * `restore DIR`: puts a backup made by `backup DIR` into the data directory, the daemon stopped. Directly on
 * the data directory (BOILERHOUSE_DATA_DIR, as `serve` reads it), on the daemon's host, as the daemon's
 * user. Checks the backup whole before changing anything and keeps what it replaces; `--check` only checks.
 */
import { resolve } from 'node:path';
import { configFromEnv } from '../config.ts';
import type { BackupManifest } from '../db/backup-manifest.ts';
import { checkBackup, type RestoreResult, restoreBackup } from '../db/backup-restore.ts';
import { SECRET_KEY_ENV, SECRET_KEY_FILE } from '../secrets/index.ts';
import type { Command } from './command.ts';

export const restore: Command = {
  path: ['restore'],
  args: 'DIR',
  summary: 'put a backup back into the data directory (the daemon stopped)',
  description:
    "Checks the backup in DIR whole (its manifest, each file's size and SHA-256, the database's integrity,\n" +
    "a schema no newer than this Boilerhouse, the secret key), then moves the data directory's database\n" +
    'and secret key aside, into <data dir>/replaced/<time>/ (nothing is deleted), and puts copies of the\n' +
    "backup's in their place. The daemon must be stopped (a database in use is refused). At its next start\n" +
    'it reconciles with what runs: instances claimed after the backup are saved from the host, then\n' +
    "destroyed, so that their tenants' next claims restore them. Secrets, tokens, access links and pool\n" +
    'sizes set after the backup are gone. The data directory is BOILERHOUSE_DATA_DIR, as for serve.',
  options: {
    check: { type: 'boolean', description: 'only check the backup; change nothing' },
  },
  api: false,
  examples: [
    'restore /var/backups/boilerhouse/2025-06-01 --check',
    'BOILERHOUSE_DATA_DIR=/var/lib/boilerhouse restore /var/backups/boilerhouse/2025-06-01',
  ],
  async run({ io, positionals, flag }) {
    const backupDir = resolve(positionals[0] as string);
    if (flag('check')) {
      const { manifest, foreignSecrets } = await checkBackup(backupDir, io.env);
      io.out(
        `${backupDir} is a whole backup of daemon ${manifest.daemon} (schema ${manifest.schema_version}), taken ${manifest.created_at}\n`,
      );
      io.out(keyLine(manifest, io.env, foreignSecrets));
      return 0;
    }
    const { dataDir } = configFromEnv(io.env);
    const result = await restoreBackup({ backupDir, dataDir, env: io.env });
    io.out(restoredText(result, dataDir, io.env));
    return 0;
  },
};

function restoredText(
  result: RestoreResult,
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const { manifest } = result;
  const lines = [
    `restored daemon ${manifest.daemon}'s state of ${manifest.created_at} (schema ${manifest.schema_version}) into ${dataDir}`,
  ];
  if (result.keptAside === undefined)
    lines.push('  the data directory had no database: nothing was replaced');
  else lines.push(`  kept aside, not deleted: ${result.keptFiles.join(', ')} in ${result.keptAside}`);
  if (result.replacedDaemon !== undefined && result.replacedDaemon !== manifest.daemon) {
    lines.push(
      `  the database replaced was daemon ${result.replacedDaemon}'s, not ${manifest.daemon}'s: its containers stay on the engine, untouched by this daemon; put its database back to manage them`,
    );
  }
  lines.push(
    keyLine(manifest, env, result.foreignSecrets).trimEnd(),
    `Gone with this restore: tenant secrets, tokens, access links and pool sizes set after ${manifest.created_at}; set them again.`,
    "Tenants' saved states live in their sinks and are not touched. At the next start, instances claimed after",
    "the backup are saved from the host and destroyed, so that their tenants' next claims restore them.",
    'Start the daemon now (systemctl start boilerhouse, or bh serve).',
  );
  return `${lines.join('\n')}\n`;
}

function keyLine(
  manifest: BackupManifest,
  env: Readonly<Record<string, string | undefined>>,
  foreignSecrets: number,
): string {
  const id = manifest.secret_key.key_id;
  let line =
    manifest.secret_key.source === 'file'
      ? `  secret key: the backup's ${SECRET_KEY_FILE} (id ${id})`
      : env[SECRET_KEY_ENV] === undefined
        ? `  secret key: not in the backup; start the daemon with ${SECRET_KEY_ENV} set to the key whose id is ${id}`
        : `  secret key: ${SECRET_KEY_ENV} here is the backup's (id ${id}); start the daemon with it`;
  if (foreignSecrets > 0) {
    line += `\n  ${foreignSecrets} tenant workloads' secrets were sealed with another key and could not be opened before the backup either`;
  }
  return `${line}\n`;
}
