/**
 * Extra mounts a group may ask for (containerConfig.additionalMounts), checked at every run against an
 * allowlist file kept outside the project (default ~/.config/nanoclaw/mount-allowlist.json), where no
 * agent can edit it:
 *
 *   { "allowedRoots": [{ "path": "~/projects", "allowReadWrite": true }],
 *     "blockedPatterns": ["secrets"], "nonMainReadOnly": true }
 *
 * Without the file no extra mount is allowed. Whatever the file says, paths holding credentials (.ssh,
 * .aws, .env, ...) and NanoClaw's own home are refused. Symlinks are resolved before any check.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { AdditionalMount } from '../store/groups.ts';
import type { Mount } from './mounts.ts';

export interface MountAllowlist {
  allowedRoots: Array<{ path: string; allowReadWrite: boolean }>;
  blockedPatterns: string[];
  nonMainReadOnly: boolean;
}

/** Path segments never mounted, whatever the allowlist says. */
export const ALWAYS_BLOCKED = [
  '.ssh',
  '.gnupg',
  '.gpg',
  '.aws',
  '.azure',
  '.gcloud',
  '.kube',
  '.docker',
  '.env',
  '.netrc',
  '.npmrc',
  '.pypirc',
  '.git-credentials',
  '.password-store',
  'credentials',
  'id_rsa',
  'id_ecdsa',
  'id_ed25519',
  'private_key',
  '.secret',
  '.secrets',
];

/** Reads the allowlist; undefined when there is none. A malformed file is an error naming the field. */
export function loadMountAllowlist(path: string, nanoclawHome: string): MountAllowlist | undefined {
  if (isInside(resolve(path), resolve(nanoclawHome))) {
    throw new Error(
      `mount allowlist ${path}: must live outside NANOCLAW_HOME (${nanoclawHome}), where agents cannot write`,
    );
  }
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`mount allowlist ${path}: not valid JSON: ${(error as Error).message}`);
  }
  const where = (field: string) => `mount allowlist ${path}: ${field}`;
  if (typeof value !== 'object' || value === null) throw new Error(where('expected an object'));
  const raw = value as Record<string, unknown>;
  if (!Array.isArray(raw.allowedRoots)) throw new Error(where('allowedRoots must be a list'));
  const allowedRoots = raw.allowedRoots.map((root, index) => {
    const entry = root as Record<string, unknown>;
    if (typeof entry?.path !== 'string')
      throw new Error(where(`allowedRoots[${index}].path must be a string`));
    if (entry.allowReadWrite !== undefined && typeof entry.allowReadWrite !== 'boolean') {
      throw new Error(where(`allowedRoots[${index}].allowReadWrite must be true or false`));
    }
    return { path: entry.path, allowReadWrite: entry.allowReadWrite === true };
  });
  const blocked = raw.blockedPatterns ?? [];
  if (!Array.isArray(blocked) || blocked.some((pattern) => typeof pattern !== 'string')) {
    throw new Error(where('blockedPatterns must be a list of strings'));
  }
  if (raw.nonMainReadOnly !== undefined && typeof raw.nonMainReadOnly !== 'boolean') {
    throw new Error(where('nonMainReadOnly must be true or false'));
  }
  return {
    allowedRoots,
    blockedPatterns: blocked as string[],
    nonMainReadOnly: raw.nonMainReadOnly !== false,
  };
}

export interface MountDecision {
  mounts: Mount[];
  refused: Array<{ hostPath: string; reason: string }>;
}

/** Splits a group's requested mounts into the allowed ones (as container mounts) and the refused. */
export function checkMounts(
  requested: AdditionalMount[],
  allowlist: MountAllowlist | undefined,
  options: { isMain: boolean; nanoclawHome: string },
): MountDecision {
  const decision: MountDecision = { mounts: [], refused: [] };
  const names = new Set<string>();
  for (const mount of requested) {
    const reason = refusal(mount, allowlist, options, names);
    if (typeof reason === 'string') decision.refused.push({ hostPath: mount.hostPath, reason });
    else {
      names.add(mount.containerPath);
      decision.mounts.push(reason);
    }
  }
  return decision;
}

function refusal(
  mount: AdditionalMount,
  allowlist: MountAllowlist | undefined,
  options: { isMain: boolean; nanoclawHome: string },
  names: Set<string>,
): string | Mount {
  if (allowlist === undefined) return 'no mount allowlist exists, so no extra mounts are allowed';
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(mount.containerPath)) {
    return `containerPath "${mount.containerPath}" must be one name of letters, digits, ., _ or -`;
  }
  if (names.has(mount.containerPath)) return `containerPath "${mount.containerPath}" is used twice`;
  const expanded = expandHome(mount.hostPath);
  if (!isAbsolute(expanded)) return 'hostPath must be absolute (or start with ~/)';
  let real: string;
  try {
    real = realpathSync(expanded);
  } catch {
    return 'hostPath does not exist';
  }
  const home = realOrResolved(options.nanoclawHome);
  if (isInside(real, home) || isInside(home, real)) return "hostPath overlaps NanoClaw's own files";
  const segments = real.split(sep).map((segment) => segment.toLowerCase());
  const blocked = [...ALWAYS_BLOCKED, ...allowlist.blockedPatterns].find((pattern) =>
    segments.some((segment) => segment === pattern.toLowerCase() || segment.includes(pattern.toLowerCase())),
  );
  if (blocked !== undefined) return `hostPath matches the blocked pattern "${blocked}"`;
  const root = allowlist.allowedRoots.find((candidate) =>
    isInside(real, realOrResolved(expandHome(candidate.path))),
  );
  if (root === undefined) return 'hostPath is under none of the allowed roots';
  const wantsWrite = mount.readonly === false;
  const mayWrite = root.allowReadWrite && (options.isMain || !allowlist.nonMainReadOnly);
  return {
    source: real,
    target: `/workspace/extra/${mount.containerPath}`,
    readonly: !(wantsWrite && mayWrite),
  };
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** `child` is `parent` or below it. */
export function isInside(child: string, parent: string): boolean {
  const path = relative(parent, child);
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
}
