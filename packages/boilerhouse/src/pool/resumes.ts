/**
 * Claims again the tenants whose claimed instance's container died (or that `workload upgrade --now` moved
 * to a new version, pool/upgrades.ts), once that instance's state is saved and it is gone: an assistant comes back by itself after a crash, an engine restart or a host reboot,
 * on a new instance that restores the save (its endpoints change; the gateway's address does not). The
 * list is a table (db/resumes.ts), so a daemon that dies in between still claims them at its next start.
 * Attempts are bounded (pool/claim-retries.ts): after the last one the tenant is left released, its state saved, and an event
 * says so; its next claim restores it.
 */
import { findTenantInstance } from '../db/instances.ts';
import { listResumes, type Resume, removeResume } from '../db/resumes.ts';
import { type ClaimJob, type ClaimOutcome, ClaimRetries } from './claim-retries.ts';
import type { Claims } from './claims.ts';
import type { PoolDeps } from './deps.ts';

const MAX_ATTEMPTS = 10;

type ResumeJob = ClaimJob & { resume: Resume };

type ResumeDeps = Pick<PoolDeps, 'db' | 'now' | 'workloads' | 'activity'>;

export class Resumes {
  readonly #deps: ResumeDeps;
  readonly #retries: ClaimRetries;

  constructor(deps: ResumeDeps, claims: Claims) {
    this.#deps = deps;
    this.#retries = new ClaimRetries(claims, { maxAttempts: MAX_ATTEMPTS, now: deps.now });
  }

  async tick(): Promise<void> {
    const deps = this.#deps;
    const resumes = listResumes(deps.db);
    this.#retries.keepOnly(new Set(resumes.map(keyOf)));
    const due: ResumeJob[] = [];
    for (const resume of resumes) {
      const own = findTenantInstance(deps.db, resume.workload, resume.tenant);
      const workload = deps.workloads.get(resume.workload);
      if (own?.phase === 'claimed' || own?.phase === 'reserved' || workload === undefined) {
        // Claimed (or claimed and released) by its caller meanwhile, or its workload is gone: nothing to do.
        removeResume(deps.db, resume.workload, resume.tenant);
        continue;
      }
      // Its dead instance is still being saved, or a claim or release of it is under way.
      if (own !== undefined || !this.#retries.due(keyOf(resume))) continue;
      due.push({ key: keyOf(resume), workload, tenant: resume.tenant, resume });
    }
    await this.#retries.run(due, (job, outcome) => this.#settle(job.resume, outcome));
  }

  #settle(resume: Resume, outcome: ClaimOutcome): void {
    const deps = this.#deps;
    if (outcome.ok) {
      const { claim } = outcome;
      removeResume(deps.db, resume.workload, resume.tenant);
      deps.activity.record({
        type: 'tenant.resumed',
        workload: resume.workload,
        tenant: resume.tenant,
        instance: claim.instance.id,
        message: `${resume.tenant} claimed again on ${claim.instance.id} (${claim.path}, ${claim.timingsMs.total}ms), ${Math.round((deps.now() - resume.since) / 1000)}s after it lost its instance (${resume.reason})`,
        data: { path: claim.path, downMs: deps.now() - resume.since, attempts: outcome.attempts },
      });
      return;
    }
    if (!outcome.last) return;
    removeResume(deps.db, resume.workload, resume.tenant);
    deps.activity.record(
      {
        type: 'tenant.resume_failed',
        workload: resume.workload,
        tenant: resume.tenant,
        message: `${resume.tenant} could not be claimed again after ${outcome.attempts} attempts (${outcome.error.message}); its state is saved and its next claim restores it`,
        data: { attempts: outcome.attempts },
      },
      'warn',
    );
  }
}

function keyOf(resume: Resume): string {
  return `${resume.workload}\u0000${resume.tenant}`;
}
