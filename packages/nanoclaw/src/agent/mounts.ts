/**
 * What an agent container sees (AGENT-PROTOCOL.md): its group folder (rw, working directory), global
 * memory (the file, read-only; the main group gets all of groups/ read-write), its session dir as
 * ~/.claude, its IPC dir, the model proxy's socket dir (read-only: the agent cannot replace the socket),
 * and extra mounts the allowlist let through. Never `.env` or anything else holding the host's secrets.
 */
import { mountPoint, SESSION_DIR } from '@boilerhouse/nanoclaw-agent/mount-points';
import type { Layout } from '../layout.ts';

export interface Mount {
  source: string;
  target: string;
  readonly: boolean;
}

export function groupMounts(layout: Layout, folder: string, isMain: boolean, extra: Mount[]): Mount[] {
  return [
    { source: layout.groupDir(folder), target: mountPoint('group'), readonly: false },
    isMain
      ? { source: layout.groupsDir, target: mountPoint('global'), readonly: false }
      : { source: layout.globalMemoryPath, target: `${mountPoint('global')}/CLAUDE.md`, readonly: true },
    { source: layout.sessionDir(folder), target: SESSION_DIR, readonly: false },
    { source: layout.ipcDir(folder), target: mountPoint('ipc'), readonly: false },
    { source: layout.modelDir(folder), target: mountPoint('model'), readonly: true },
    ...extra,
  ];
}

/** Mount sources as the engine sees them, when NanoClaw runs in a container talking to the host's engine. */
export function translateSources(mounts: Mount[], home: string, hostHome: string | undefined): Mount[] {
  if (hostHome === undefined) return mounts;
  return mounts.map((mount) =>
    mount.source === home || mount.source.startsWith(`${home}/`)
      ? { ...mount, source: hostHome + mount.source.slice(home.length) }
      : mount,
  );
}
