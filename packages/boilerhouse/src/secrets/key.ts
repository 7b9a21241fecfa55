/**
 * The daemon's 32-byte secret key, which seals tenant secrets at rest: from `BOILERHOUSE_SECRET_KEY`, else
 * from `<dataDir>/secret.key`, generated on first use and readable only by the daemon. Errors name where a
 * key came from, never the key.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const SECRET_KEY_ENV = 'BOILERHOUSE_SECRET_KEY';
export const SECRET_KEY_FILE = 'secret.key';
const KEY_BYTES = 32;
const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';

export interface SecretKey {
  key: Buffer;
  /** Where it came from, to log: `BOILERHOUSE_SECRET_KEY` or the key file's path. */
  source: string;
  /** Whether the key file was made just now (secrets stored under an earlier key cannot be opened). */
  generated: boolean;
}

/** The key from the environment when set there, else from the data directory's key file. */
export async function loadSecretKey(
  env: Readonly<Record<string, string | undefined>>,
  dataDir: string,
): Promise<SecretKey> {
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv !== undefined) {
    return { key: parseSecretKey(fromEnv, SECRET_KEY_ENV), source: SECRET_KEY_ENV, generated: false };
  }
  const path = join(dataDir, SECRET_KEY_FILE);
  const generated = await generateKeyFile(path);
  return { key: await readKeyFile(path), source: path, generated };
}

/**
 * 32 bytes as 64 hex digits or as base64 (standard or URL-safe, padding optional); surrounding whitespace
 * (a trailing newline) is ignored. `where` names the source in the error, which never contains the text.
 */
export function parseSecretKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  // Hex first: 64 hex digits are also valid base64, of the wrong length.
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(trimmed) || /^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  const shape = trimmed === '' ? 'it is empty' : `it has ${trimmed.length} characters`;
  throw new Error(
    `${where} must be a 32-byte key, as base64 (44 characters) or hex (64 characters), but ${shape}; ${GENERATE_HINT}`,
  );
}

/**
 * Creates the key file when there is none; whether this call made it. Written to a temporary file, then
 * linked into place: another daemon starting at the same moment either sees no file or a whole key, and
 * only one key wins.
 */
async function generateKeyFile(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(KEY_BYTES).toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}

/** Reads the key file, refusing one that anybody but the daemon could read. */
async function readKeyFile(path: string): Promise<Buffer> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`the secret key file ${path} is not a regular file`);
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(
      `the secret key file ${path} is open to group or others (mode ${mode}); it must be readable only by ` +
        `the daemon: run \`chmod 600 ${path}\``,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new Error(
      `the secret key file ${path} belongs to uid ${info.uid}, not to the daemon (uid ${uid}): ` +
        `run \`chown ${uid} ${path}\``,
    );
  }
  return parseSecretKey(await readFile(path, 'utf8'), `the secret key file ${path}`);
}
