/** Instances, the activity log and daemon metadata. */
export default `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  workload TEXT NOT NULL,
  -- Version of the workload spec the instance was created from.
  spec_hash TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN
    ('creating', 'ready', 'claiming', 'claimed', 'releasing', 'reserved', 'destroying', 'failed')),
  -- Set when a tenant claims it and never changed to another tenant afterwards.
  tenant TEXT,
  container_id TEXT,
  -- The container's address on its bridge network, for readiness probes.
  address TEXT,
  -- JSON: [{"port": 8080, "hostPort": 32768}]
  ports TEXT NOT NULL DEFAULT '[]',
  -- Why the instance is in its phase (failures, destruction).
  reason TEXT,
  created_at INTEGER NOT NULL,
  phase_changed_at INTEGER NOT NULL,
  claimed_at INTEGER,
  reserved_until INTEGER
) STRICT;

-- One tenant, one live instance per workload: concurrent claims can never hand a tenant two.
CREATE UNIQUE INDEX instances_one_per_tenant ON instances (workload, tenant)
  WHERE tenant IS NOT NULL AND phase IN ('claiming', 'claimed', 'releasing', 'reserved');
CREATE INDEX instances_by_phase ON instances (workload, phase, created_at);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  workload TEXT,
  tenant TEXT,
  instance TEXT,
  message TEXT NOT NULL,
  -- JSON with the event's details (timings, reasons).
  data TEXT
) STRICT;
CREATE INDEX events_by_time ON events (at);
`;
