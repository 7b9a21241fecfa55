/**
 * The daemon's own state as a backup (db/backup.ts), which `bh backup` writes into a directory. Admin only:
 * it holds every tenant's sealed secrets and, in secret.key, what opens them. Streamed as it is read, and
 * nothing of it reaches a log (the request's line names the route and status only).
 */
import type { Boilerhouse } from '../../boilerhouse.ts';
import { route } from '../route.ts';

export function backupRoutes(boilerhouse: Boilerhouse) {
  return [
    route({
      method: 'get',
      path: '/api/v1/backup',
      tag: 'system',
      summary: "A consistent copy of the daemon's database and secret key, as a tar archive",
      description:
        "The archive holds `manifest.json` (daemon id, schema version, time, each file with its size and SHA-256, the secret key id), `secret.key` (left out when the key comes from `BOILERHOUSE_SECRET_KEY`: keep that key with the backup) and `boilerhouse.db`, copied with SQLite's online backup while the daemon serves. Tenants' states are not in it: they live in their sinks. `bh backup DIR` writes it into a new directory (0700, files 0600); `bh restore DIR`, with the daemon stopped, puts it back.",
      scope: 'admin',
      limitedBy: 'unlimited',
      mediaType: 'application/x-tar',
      responses: { 200: 'The backup archive' },
      handle: async (c) => {
        const { manifest, archive } = await boilerhouse.backup();
        const stamp = manifest.created_at.replace(/[:.]/g, '-');
        return c.body(archive, 200, {
          'Content-Type': 'application/x-tar',
          'Content-Disposition': `attachment; filename="boilerhouse-${manifest.daemon}-${stamp}.tar"`,
          'Cache-Control': 'no-store',
        });
      },
    }),
  ];
}
