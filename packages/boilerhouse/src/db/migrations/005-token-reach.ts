/**
 * What a token may reach: JSON arrays of tenant and workload ids. NULL is no limit (every tenant, every
 * workload), which is what the tokens made before this migration keep.
 */
export default `
ALTER TABLE api_tokens ADD COLUMN tenants TEXT CHECK (tenants IS NULL OR json_array_length(tenants) > 0);
ALTER TABLE api_tokens ADD COLUMN workloads TEXT CHECK (workloads IS NULL OR json_array_length(workloads) > 0);
`;
