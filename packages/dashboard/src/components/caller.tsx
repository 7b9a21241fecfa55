/**
 * Who is logged in, in the page frame: the token's name and what it reaches (its scopes on hover). A token
 * limited to some tenants and workloads sees only those everywhere, which this says up front.
 */
import { useCaller } from '../api/queries.ts';
import { reachText } from '../reach.ts';

export function Caller() {
  const { data: caller } = useCaller();
  if (caller === undefined) return null;
  const limited = caller.tenants !== null || caller.workloads !== null;
  return (
    <span
      className={`caller${limited ? ' limited' : ''}`}
      data-caller={caller.id}
      title={`Scopes: ${caller.scopes.join(', ')}`}
    >
      <span className="caller-name">{caller.name}</span>
      <span className="muted"> · {reachText(caller)}</span>
    </span>
  );
}
