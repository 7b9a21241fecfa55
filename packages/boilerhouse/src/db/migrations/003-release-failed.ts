/**
 * Phase `release_failed`: a release whose save failed keeps its instance (and data) in this phase while
 * Boilerhouse retries the save. SQLite cannot alter a CHECK constraint, so the table is rebuilt.
 */
export default `
CREATE TABLE instances_next (
  id TEXT PRIMARY KEY,
  workload TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN
    ('creating', 'ready', 'claiming', 'claimed', 'releasing', 'release_failed', 'reserved', 'destroying', 'failed')),
  tenant TEXT,
  container_id TEXT,
  address TEXT,
  ports TEXT NOT NULL DEFAULT '[]',
  reason TEXT,
  created_at INTEGER NOT NULL,
  phase_changed_at INTEGER NOT NULL,
  claimed_at INTEGER,
  reserved_until INTEGER
) STRICT;
INSERT INTO instances_next SELECT * FROM instances;
DROP TABLE instances;
ALTER TABLE instances_next RENAME TO instances;
CREATE UNIQUE INDEX instances_one_per_tenant ON instances (workload, tenant)
  WHERE tenant IS NOT NULL AND phase IN ('claiming', 'claimed', 'releasing', 'release_failed', 'reserved');
CREATE INDEX instances_by_phase ON instances (workload, phase, created_at);
`;
