/**
 * Places where a fault test kills the daemon (SIGKILL, no clean-up of any kind), to prove that a crash at
 * any step of claim, release, destroy or a dead container's salvage loses nothing. Switched on only by
 * BOILERHOUSE_CRASH_AT=<point>, read once at load: otherwise a point costs one string comparison.
 */
export type CrashPoint =
  | 'claim.taken'
  | 'claim.restored'
  | 'claim.opened'
  | 'release.releasing'
  | 'release.saved'
  | 'destroy.destroying'
  | 'destroy.removed'
  | 'dead.failed'
  | 'upgrade.moving'
  | 'upgrade.saved';

const CRASH_AT = process.env.BOILERHOUSE_CRASH_AT;

export function crashPoint(point: CrashPoint): void {
  if (point === CRASH_AT) process.kill(process.pid, 'SIGKILL');
}
