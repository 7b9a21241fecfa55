/** Per-tenant secrets, sealed with the daemon's secret key (see src/secrets/). */
export default `
CREATE TABLE tenant_secrets (
  tenant TEXT NOT NULL,
  workload TEXT NOT NULL,
  -- JSON array of the names, sorted. Names are not secret: they are listed without the key, and are part of
  -- the additional authenticated data, so a changed list fails to decrypt.
  keys TEXT NOT NULL,
  -- A fingerprint of the key that sealed the row (never the key), to tell "another key" from "altered row".
  key_id TEXT NOT NULL,
  -- AES-256-GCM of the JSON values, with the tenant, workload and names as additional authenticated data.
  nonce BLOB NOT NULL CHECK (length(nonce) = 12),
  tag BLOB NOT NULL CHECK (length(tag) = 16),
  ciphertext BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, workload)
) STRICT;
`;
