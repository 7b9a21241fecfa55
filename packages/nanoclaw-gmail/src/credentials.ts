/**
 * The OAuth tokens of the connected Gmail account: one JSON file, mode 0600, written whole (temp file,
 * fsync, rename) by the host's /gmail command and read by the server at each token refresh, so a new
 * connection or a disconnection takes effect without a restart. Only the host's processes read it: it
 * lives in the host's store/, which no agent container mounts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface GmailCredentials {
  refreshToken: string;
  /** The account the tokens are for (from Gmail's profile), for the chat to show. */
  email: string;
  scope: string;
  connectedAt: string;
}

/** The credentials, or undefined when Gmail is not connected (no file). */
export async function readCredentials(path: string): Promise<GmailCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let body: Partial<GmailCredentials>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON: connect Gmail again (/gmail connect)`);
  }
  if (typeof body.refreshToken !== 'string' || body.refreshToken === '')
    throw new Error(`${path} holds no refresh token: connect Gmail again (/gmail connect)`);
  return {
    refreshToken: body.refreshToken,
    email: String(body.email ?? ''),
    scope: String(body.scope ?? ''),
    connectedAt: String(body.connectedAt ?? ''),
  };
}

export async function writeCredentials(path: string, credentials: GmailCredentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(credentials, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

export async function removeCredentials(path: string): Promise<void> {
  await rm(path, { force: true });
}
