/**
 * The layout of a tenant's saves in a sink, built and parsed only here.
 *
 *   <base>HEAD                      {"seq": N, "manifestSha256": ...}: the newest complete save, written last
 *   <base>saves/000000000042.json   the manifest of save 42 (numbers sort as text)
 *   <base>blobs/ab/abcdef...        the content of one large file, by SHA-256
 *   <base>packs/abcdef...           many small files back to back, by the SHA-256 of the pack
 *
 * `<base>` is the sink prefix with `${tenantId}` filled in, or the prefix followed by the tenant, and then
 * the workload: tenant ids are encoded, so they never become raw path segments.
 */
const SEQ_DIGITS = 12;

export function tenantKey(tenant: string): string {
  return encodeURIComponent(tenant).replace(
    /[!'()*~]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The key prefix of one tenant's saves of one workload. */
export function saveBase(prefix: string | undefined, tenant: string, workload: string): string {
  const start = prefix ?? '';
  const withTenant = start.includes('${tenantId}')
    ? start.replaceAll('${tenantId}', tenantKey(tenant))
    : `${start}${start === '' || start.endsWith('/') ? '' : '/'}${tenantKey(tenant)}/`;
  return `${withTenant}${withTenant.endsWith('/') ? '' : '/'}${workload}/`;
}

export function headKey(base: string): string {
  return `${base}HEAD`;
}

export function saveKey(base: string, seq: number): string {
  return `${base}saves/${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

/** The save number in a manifest key, or undefined for any other key. */
export function parseSaveKey(base: string, key: string): number | undefined {
  const match = new RegExp(`^saves/(\\d{${SEQ_DIGITS}})\\.json$`).exec(key.slice(base.length));
  return key.startsWith(base) && match ? Number(match[1]) : undefined;
}

const MANIFEST_KEY = new RegExp(`(?:^|/)saves/\\d{${SEQ_DIGITS}}\\.json$`);

/** Whether the key is a save's manifest, under whatever base. */
export function isManifestKey(key: string): boolean {
  return MANIFEST_KEY.test(key);
}

export function blobKey(base: string, sha256: string): string {
  return `${base}blobs/${sha256.slice(0, 2)}/${sha256}`;
}

export function packKey(base: string, sha256: string): string {
  return `${base}packs/${sha256}`;
}

const CONTENT_KEY = /(?:^|\/)(?:blobs\/([0-9a-f]{2})|packs)\/([0-9a-f]{64})$/;

/** The SHA-256 a blob or pack key names its content by; undefined for HEAD, a manifest or any other key. */
export function contentHashOf(key: string): string | undefined {
  const match = CONTENT_KEY.exec(key);
  if (match === null) return undefined;
  const [, folder, sha256] = match as unknown as [string, string | undefined, string];
  return folder === undefined || sha256.startsWith(folder) ? sha256 : undefined;
}
