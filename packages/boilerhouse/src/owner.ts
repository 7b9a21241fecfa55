/** The host user and group ids a workload's files are given to, used by pool, state, proxy and secrets alike. */
export interface Owner {
  uid: number;
  gid: number;
}

/** `1000` or `1000:1000` -> ids to chown to; a user name cannot be resolved on the host. */
export function numericOwner(user: string | undefined): Owner | undefined {
  const match = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  if (match === null) return undefined;
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}
