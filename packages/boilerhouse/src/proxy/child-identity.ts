/**
 * Who a child runs as and with which capabilities. Every child runs as the instance's own numeric user
 * (nobody when the workload's user is a name or root: see `childUser` in @boilerhouse/spec), never as
 * root: a child with a bind of the instance's volumes and uid 0 could leave setuid-root files and device
 * nodes on the host's disk. Its capabilities are all dropped; a workload may grant a few back
 * (`docker.capabilities`), which a create may then add.
 */
import { capabilityName } from '@boilerhouse/spec';
import { quote } from './denial.ts';

export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * The `User` to send: `uid:gid` always, so that the image's /etc/passwd never picks the group (an image
 * without the user would give gid 0). Empty means the instance's user; so does its uid, or its uid:gid;
 * anything else (root, a name, which resolves inside the image and may be uid 0, other ids) is refused.
 */
export function checkUser(
  value: unknown,
  runAs: RunAs,
  field: string,
  refuse: (what: string) => void,
): string {
  const allowed = `${runAs.uid}:${runAs.gid}`;
  const user = (value ?? '') as string;
  if (user !== '' && user !== String(runAs.uid) && user !== allowed) {
    refuse(
      `${field} ${quote(user)} is refused: containers run as the instance's user, ${allowed} (leave ${field} empty or set it to ${quote(allowed)})`,
    );
  }
  return allowed;
}

/** Extra groups: none but the instance's own gid, which the child has already. */
export function checkGroupAdd(value: unknown, runAs: RunAs, refuse: (what: string) => void): void {
  for (const group of (value ?? []) as string[]) {
    if (group !== String(runAs.gid)) {
      refuse(
        `HostConfig.GroupAdd ${quote(group)} is refused: containers have only the instance's group, ${runAs.gid}`,
      );
    }
  }
}

/** The capabilities asked for, as `CAP_` names the engine knows, when the workload grants every one. */
export function checkCapAdd(
  value: unknown,
  granted: readonly string[],
  refuse: (what: string) => void,
): string[] {
  const out: string[] = [];
  const grants = granted.length === 0 ? 'it grants none' : `it grants ${granted.join(', ')}`;
  for (const asked of (value ?? []) as string[]) {
    const name = capabilityName(asked);
    if (name === undefined) {
      refuse(
        /^(CAP_)?ALL$/i.test(asked)
          ? `HostConfig.CapAdd ${quote(asked)} is refused: capabilities are added one by one, and only those the workload grants (docker.capabilities: ${grants})`
          : `HostConfig.CapAdd ${quote(asked)} is refused: it is not a Linux capability`,
      );
    } else if (!granted.includes(name)) {
      refuse(
        `HostConfig.CapAdd ${quote(asked)} is refused: the workload does not grant it (docker.capabilities: ${grants})`,
      );
    } else if (!out.includes(`CAP_${name}`)) out.push(`CAP_${name}`);
  }
  return out;
}
