/**
 * Who the containers a workload starts through its filtered socket run as: the workload's own numeric
 * user, so that they share its files; never root. A name could mean anything inside an image (root
 * included) and cannot be resolved on the host, and root is never given, so a workload whose user is a
 * name, root or unset gets children that run as nobody (65534:65534) instead.
 */
export interface ChildUser {
  uid: number;
  gid: number;
  /** True when the workload's user could not be used and nobody stands in. */
  fallback: boolean;
}

export const NOBODY = { uid: 65534, gid: 65534 } as const;

/** `1000` -> 1000:1000, `1000:100` -> 1000:100; a name, root (uid or gid 0) or nothing -> nobody. */
export function childUser(workloadUser: string | undefined): ChildUser {
  const match = /^(\d+)(?::(\d+))?$/.exec(workloadUser ?? '');
  if (match !== null) {
    const uid = Number(match[1]);
    const gid = match[2] === undefined ? uid : Number(match[2]);
    if (uid !== 0 && gid !== 0) return { uid, gid, fallback: false };
  }
  return { ...NOBODY, fallback: true };
}
