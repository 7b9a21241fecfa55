/**
 * When Boilerhouse claims a released tenant by itself (`pool.wake`): at the time its wake file names
 * (`schedule`) and every so often (`every`). A table, so that a wake survives a daemon restart and one
 * missed while the daemon was down runs at its start. `last_due_at` is the due time of the last wake that
 * ran, so that a wake file still naming that time (nothing rewrote it) does not wake the tenant again.
 */
export default `
CREATE TABLE wakes (
  workload TEXT NOT NULL,
  tenant TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'every')),
  due_at INTEGER,
  set_at INTEGER NOT NULL,
  last_due_at INTEGER,
  PRIMARY KEY (workload, tenant, trigger)
) STRICT;
CREATE INDEX wakes_due ON wakes (due_at) WHERE due_at IS NOT NULL;
`;
