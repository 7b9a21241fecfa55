/**
 * Requests that are not carried out are kept, not dropped: refused ones at once, failed ones after their
 * last attempt. Each goes to `data/ipc-errors/{group}/` as the bytes the host read (`{kind}-{file}`) and
 * why (`{kind}-{file}.reason.txt`). That folder is the host's: no agent can see it or fill it, except by
 * sending requests, so it is capped; past the cap a request is logged with its reason and not kept.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IpcKind } from '@boilerhouse/nanoclaw-agent/ipc-requests';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';

/** Requests kept per group. */
export const MAX_SET_ASIDE = 1000;

export function setAside(
  layout: Layout,
  folder: string,
  kind: IpcKind,
  file: string,
  content: Buffer | undefined,
  reason: string,
  log: Logger,
): void {
  const dir = layout.ipcErrorsDir(folder);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kept = readdirSync(dir).filter((name) => name.endsWith('.reason.txt')).length;
  if (kept >= MAX_SET_ASIDE) {
    log.error(
      { group: folder, file: `${kind}/${file}`, reason, kept },
      'IPC request not kept: the group already has the most set-aside requests kept',
    );
    return;
  }
  const name = `${kind}-${file}`;
  if (content !== undefined) writeFileSync(join(dir, name), content, { mode: 0o600 });
  writeFileSync(join(dir, `${name}.reason.txt`), `${reason}\n`, { mode: 0o600 });
}
