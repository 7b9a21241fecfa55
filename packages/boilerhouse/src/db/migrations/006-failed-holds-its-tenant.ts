/**
 * An instance whose container died keeps its tenant's data (phase `failed`) until that data is saved, so
 * it counts as the tenant's instance: no second instance may be claimed over unsaved data. A tenant that
 * was claimed when its container died is claimed again once its data is saved (`resumes`), which must
 * survive a daemon crash in between, hence a table rather than memory.
 */
export default `
DROP INDEX instances_one_per_tenant;
CREATE UNIQUE INDEX instances_one_per_tenant ON instances (workload, tenant)
  WHERE tenant IS NOT NULL
    AND phase IN ('claiming', 'claimed', 'releasing', 'release_failed', 'reserved', 'failed');
CREATE TABLE resumes (
  workload TEXT NOT NULL,
  tenant TEXT NOT NULL,
  reason TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (workload, tenant)
) STRICT;
`;
