/**
 * The gateway's access links (gateway/links.ts): per tenant and workload, only the SHA-256 of each secret.
 * A revoked link keeps its row (revoked_at) so a listing can tell what was revoked when.
 */
export default `
CREATE TABLE gateway_links (
  id TEXT PRIMARY KEY,
  workload TEXT NOT NULL,
  tenant TEXT NOT NULL,
  secret_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
) STRICT;
CREATE INDEX gateway_links_by_tenant ON gateway_links (tenant, workload);
`;
