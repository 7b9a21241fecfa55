/** Per-tenant secrets: sealed at rest, written into an instance's in-memory secrets volume at claim. */

export type { SecretNames } from '../db/secrets.ts';
export { SecretsDecryptError } from './cipher.ts';
export { loadSecretKey, SECRET_KEY_ENV, SECRET_KEY_FILE, type SecretKey } from './key.ts';
export { prepareSecretsVolume, secretsSource } from './materialize.ts';
export { MemoryDirs } from './memory-dir.ts';
export { TenantSecrets } from './secrets.ts';
export { MAX_SECRETS, MAX_VALUE_BYTES } from './values.ts';
