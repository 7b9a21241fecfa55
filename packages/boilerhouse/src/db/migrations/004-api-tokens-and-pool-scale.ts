/** API tokens (stored hashed) and operator overrides of pool sizes (scale, drain). */
export default `
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- JSON array of scopes.
  scopes TEXT NOT NULL,
  -- SHA-256 of the token's secret part: the token has 256 random bits, so a fast hash is enough.
  secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;

CREATE TABLE pool_overrides (
  workload TEXT PRIMARY KEY,
  min_idle INTEGER CHECK (min_idle >= 0),
  max_size INTEGER CHECK (max_size >= 1),
  updated_at INTEGER NOT NULL
) STRICT;
`;
