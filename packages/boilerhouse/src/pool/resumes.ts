/**
 * Claims again the tenants whose claimed instance's container died, once that instance's state is saved
 * and it is gone: an assistant comes back by itself after a crash, an engine restart or a host reboot,
 * on a new instance that restores the save (its endpoints change; the gateway's address does not). The
 * list is a table (db/resumes.ts), so a daemon that dies in between still claims them at its next start.
 * Attempts are bounded: after the last one the tenant is left released, its state saved, and an event
 * says so; its next claim restores it.
 */
import { findTenantInstance } from '../db/instances.ts';
import { listResumes, type Resume, removeResume } from '../db/resumes.ts';
import type { Claims } from './claims.ts';
import type { PoolDeps } from './deps.ts';
import { RetrySchedule } from './retry-schedule.ts';

const MAX_ATTEMPTS = 10;
/** Claims made at once: enough to bring many tenants back quickly, few enough not to starve callers. */
const CONCURRENT = 4;

export class Resumes {
  readonly #deps: PoolDeps;
  readonly #claims: Claims;
  readonly #retries: RetrySchedule;

  constructor(deps: PoolDeps, claims: Claims) {
    this.#deps = deps;
    this.#claims = claims;
    this.#retries = new RetrySchedule({ firstMs: 2_000, longestMs: 5 * 60_000, jitter: 0.2, now: deps.now });
  }

  async tick(): Promise<void> {
    const deps = this.#deps;
    const resumes = listResumes(deps.db);
    this.#retries.keepOnly(new Set(resumes.map(keyOf)));
    const due: Resume[] = [];
    for (const resume of resumes) {
      const own = findTenantInstance(deps.db, resume.workload, resume.tenant);
      if (
        own?.phase === 'claimed' ||
        own?.phase === 'reserved' ||
        deps.workloads.get(resume.workload) === undefined
      ) {
        // Claimed (or claimed and released) by its caller meanwhile, or its workload is gone: nothing to do.
        removeResume(deps.db, resume.workload, resume.tenant);
        continue;
      }
      // Its dead instance is still being saved, or a claim or release of it is under way.
      if (own !== undefined || !this.#retries.due(keyOf(resume))) continue;
      due.push(resume);
    }
    for (let start = 0; start < due.length; start += CONCURRENT) {
      await Promise.all(due.slice(start, start + CONCURRENT).map((resume) => this.#resume(resume)));
    }
  }

  async #resume(resume: Resume): Promise<void> {
    const deps = this.#deps;
    const workload = deps.workloads.get(resume.workload);
    if (workload === undefined) return;
    const attempt = this.#retries.attempted(keyOf(resume));
    try {
      const claim = await this.#claims.claim(workload, resume.tenant);
      removeResume(deps.db, resume.workload, resume.tenant);
      deps.activity.record({
        type: 'tenant.resumed',
        workload: resume.workload,
        tenant: resume.tenant,
        instance: claim.instance.id,
        message: `${resume.tenant} claimed again on ${claim.instance.id} (${claim.path}, ${claim.timingsMs.total}ms), ${Math.round((deps.now() - resume.since) / 1000)}s after its container died (${resume.reason})`,
        data: { path: claim.path, downMs: deps.now() - resume.since, attempts: attempt },
      });
    } catch (error) {
      if (attempt < MAX_ATTEMPTS) return;
      removeResume(deps.db, resume.workload, resume.tenant);
      deps.activity.record(
        {
          type: 'tenant.resume_failed',
          workload: resume.workload,
          tenant: resume.tenant,
          message: `${resume.tenant} could not be claimed again after ${attempt} attempts (${(error as Error).message}); its state is saved and its next claim restores it`,
          data: { attempts: attempt },
        },
        'warn',
      );
    }
  }
}

function keyOf(resume: Resume): string {
  return `${resume.workload}\u0000${resume.tenant}`;
}
