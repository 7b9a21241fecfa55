import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../testing/temp-home.ts';
import { checkMounts, loadMountAllowlist, type MountAllowlist } from './mount-allowlist.ts';

let root: Awaited<ReturnType<typeof tempHome>>;
let nanoclawHome: string;
let allowlist: MountAllowlist;

beforeEach(async () => {
  root = await tempHome('nanoclaw-mounts-');
  nanoclawHome = join(root.path, 'nanoclaw');
  for (const dir of [
    'projects/web',
    'projects/.ssh',
    'projects/secrets-vault',
    'nanoclaw/store',
    'elsewhere',
  ]) {
    mkdirSync(join(root.path, dir), { recursive: true });
  }
  writeFileSync(join(root.path, 'projects', 'web', '.env'), 'TOKEN=x');
  symlinkSync(join(root.path, 'projects', '.ssh'), join(root.path, 'projects', 'keys'));
  allowlist = {
    allowedRoots: [{ path: join(root.path, 'projects'), allowReadWrite: true }],
    blockedPatterns: ['secrets'],
    nonMainReadOnly: true,
  };
});
afterEach(() => root.remove());

const mount = (hostPath: string, containerPath: string, readonly?: boolean) => ({
  hostPath,
  containerPath,
  ...(readonly === undefined ? {} : { readonly }),
});

describe('checkMounts', () => {
  it('allows a path under an allowed root, read-write only for main when asked', () => {
    const web = join(root.path, 'projects', 'web');
    expect(checkMounts([mount(web, 'web', false)], allowlist, { isMain: true, nanoclawHome })).toEqual({
      mounts: [{ source: web, target: '/workspace/extra/web', readonly: false }],
      refused: [],
    });
    expect(
      checkMounts([mount(web, 'web', false)], allowlist, { isMain: false, nanoclawHome }).mounts,
    ).toEqual([{ source: web, target: '/workspace/extra/web', readonly: true }]);
    expect(
      checkMounts([mount(web, 'web')], allowlist, { isMain: true, nanoclawHome }).mounts[0]?.readonly,
    ).toBe(true);
  });

  it('refuses credentials, blocked patterns, symlinks into them, NanoClaw itself and paths outside the roots', () => {
    const requests = [
      mount(join(root.path, 'projects', '.ssh'), 'ssh'),
      mount(join(root.path, 'projects', 'keys'), 'keys'),
      mount(join(root.path, 'projects', 'web', '.env'), 'env'),
      mount(join(root.path, 'projects', 'secrets-vault'), 'vault'),
      mount(join(root.path, 'nanoclaw', 'store'), 'store'),
      mount(join(root.path, 'elsewhere'), 'elsewhere'),
      mount(join(root.path, 'projects', 'missing'), 'missing'),
      mount(join(root.path, 'projects', 'web'), '../escape'),
      mount('relative/path', 'relative'),
    ];
    const allowlistWithHome = {
      ...allowlist,
      allowedRoots: [...allowlist.allowedRoots, { path: nanoclawHome, allowReadWrite: true }],
    };
    const decision = checkMounts(requests, allowlistWithHome, { isMain: true, nanoclawHome });
    expect(decision.mounts).toEqual([]);
    expect(decision.refused.map((refusal) => refusal.reason)).toEqual([
      'hostPath matches the blocked pattern ".ssh"',
      'hostPath matches the blocked pattern ".ssh"',
      'hostPath matches the blocked pattern ".env"',
      'hostPath matches the blocked pattern "secrets"',
      "hostPath overlaps NanoClaw's own files",
      'hostPath is under none of the allowed roots',
      'hostPath does not exist',
      'containerPath "../escape" must be one name of letters, digits, ., _ or -',
      'hostPath must be absolute (or start with ~/)',
    ]);
  });

  it('allows nothing without an allowlist', () => {
    const decision = checkMounts([mount(join(root.path, 'projects', 'web'), 'web')], undefined, {
      isMain: true,
      nanoclawHome,
    });
    expect(decision.refused[0]?.reason).toBe('no mount allowlist exists, so no extra mounts are allowed');
  });
});

describe('loadMountAllowlist', () => {
  it('must live outside NANOCLAW_HOME, and names what is wrong in it', () => {
    expect(() => loadMountAllowlist(join(nanoclawHome, 'allow.json'), nanoclawHome)).toThrow(
      'must live outside NANOCLAW_HOME',
    );
    const path = join(root.path, 'allow.json');
    expect(loadMountAllowlist(path, nanoclawHome)).toBeUndefined();
    writeFileSync(path, JSON.stringify({ allowedRoots: [{ path: 5 }] }));
    expect(() => loadMountAllowlist(path, nanoclawHome)).toThrow(
      `mount allowlist ${path}: allowedRoots[0].path must be a string`,
    );
    writeFileSync(path, JSON.stringify({ allowedRoots: [{ path: '~/projects' }] }));
    expect(loadMountAllowlist(path, nanoclawHome)).toEqual({
      allowedRoots: [{ path: '~/projects', allowReadWrite: false }],
      blockedPatterns: [],
      nonMainReadOnly: true,
    });
  });
});
