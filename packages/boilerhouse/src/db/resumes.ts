/**
 * Tenants to claim again: each was claimed when its instance's container died, and gets a new instance
 * with its saved state without anyone asking (pool/resumes.ts). One row per workload and tenant.
 */
import type { Database } from './database.ts';

export interface Resume {
  workload: string;
  tenant: string;
  reason: string;
  since: number;
}

export function addResume(db: Database, resume: Resume): void {
  db.prepare(
    'INSERT INTO resumes (workload, tenant, reason, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  ).run(resume.workload, resume.tenant, resume.reason, resume.since);
}

/** True when there was one to remove. */
export function removeResume(db: Database, workload: string, tenant: string): boolean {
  return (
    db.prepare('DELETE FROM resumes WHERE workload = ? AND tenant = ?').run(workload, tenant).changes > 0
  );
}

export function listResumes(db: Database): Resume[] {
  return db.prepare('SELECT * FROM resumes ORDER BY since').all() as unknown as Resume[];
}
