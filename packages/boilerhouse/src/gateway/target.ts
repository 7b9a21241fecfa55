/**
 * Which tenant a gateway request is for, read strictly: anything that two parts of a chain could read two
 * ways (a second Host header, an absolute-form target, `..` or `.` in any spelling, an encoded slash or
 * backslash, a malformed escape) is refused with 400 before any tenant is looked up, so no spelling of a
 * request reaches another tenant's instance.
 *
 *   host form  Host: <label>.<domain>      GET /rest?q   -> that label's tenant, /rest?q
 *   path form  Host: anything else         GET /{workload}/{tenant}/rest?q -> /rest?q
 */
import { WORKLOAD_ID } from '@boilerhouse/spec';
import { TENANT_ID } from '../tenant.ts';

export type GatewayForm = 'path' | 'host';

export interface Target {
  form: GatewayForm;
  workload: string;
  tenant: string;
  /** What the instance is asked for: the path after the tenant's prefix, and the query. */
  rest: string;
  /** The tenant's prefix as the caller sees it: `/{workload}/{tenant}` in the path form, '' in the host form. */
  base: string;
  /** The Host header the caller sent. */
  host: string;
}

export type TargetResult =
  | ({ ok: true } & Target)
  /** 400: ambiguous or malformed; 404: no tenant named (path form); unknown: a host label nobody has. */
  | { ok: false; status: 400 | 404 | 'unknown'; message: string };

/** The (workload, tenant) a host-form label stands for, when the gateway knows it. */
export type LabelOwner = (label: string) => { workload: string; tenant: string } | undefined;

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseTarget(
  url: string,
  rawHeaders: readonly string[],
  domain: string | null,
  owner: LabelOwner,
): TargetResult {
  const hosts: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'host') hosts.push(rawHeaders[i + 1] ?? '');
  }
  if (hosts.length !== 1) return bad(`a request needs exactly one Host header, got ${hosts.length}`);
  const host = hosts[0] as string;
  // Origin form only: an absolute-form target (`GET http://other/`) names a host of its own.
  if (!url.startsWith('/') || url.startsWith('//'))
    return bad('the request target must be a path (origin form)');
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);
  if (/[\\\0#]/.test(path)) return bad('the path holds a backslash, NUL or #');
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '.' || segment === '..') return bad('the path holds a . or .. segment');
    // Without an escape the segment is what it decodes to, and the checks above hold for it.
    if (!segment.includes('%')) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return bad('the path holds a malformed %-escape');
    }
    if (decoded === '.' || decoded === '..') return bad('the path holds a . or .. segment');
    if (/[/\\\0]/.test(decoded)) return bad('the path holds an encoded slash, backslash or NUL');
  }

  const name = hostName(host);
  if (name === undefined) return bad('the Host header is not a host name');
  if (domain !== null && name.endsWith(`.${domain}`)) {
    const label = name.slice(0, -domain.length - 1);
    const found = LABEL.test(label) ? owner(label) : undefined;
    if (found === undefined) return { ok: false, status: 'unknown', message: 'no tenant at this host name' };
    return { ok: true, form: 'host', ...found, rest: path + query, base: '', host };
  }
  const [workload, tenant, ...rest] = segments;
  if (workload === undefined || tenant === undefined || workload === '' || tenant === '')
    return { ok: false, status: 404, message: 'the gateway serves /{workload}/{tenant}/...' };
  if (!WORKLOAD_ID.test(workload)) return bad('the first path segment is not a workload id');
  // Raw, never decoded: a tenant id has no character that needs escaping, so an escape is a trick.
  if (!TENANT_ID.test(tenant) || tenant === '.' || tenant === '..')
    return bad('the second path segment is not a tenant id');
  return {
    ok: true,
    form: 'path',
    workload,
    tenant,
    rest: `/${rest.join('/')}${query}`,
    base: `/${workload}/${tenant}`,
    host,
  };
}

/** The lower-cased name of a Host header without its port; undefined when it is not one. */
function hostName(header: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.exec(header);
  return match ? (match[1] as string).toLowerCase() : undefined;
}

function bad(message: string): TargetResult {
  return { ok: false, status: 400, message };
}
