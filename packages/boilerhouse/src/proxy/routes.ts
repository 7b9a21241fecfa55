/**
 * The endpoints the filtered socket serves: what it takes to run containers of one's own, and nothing
 * else (no build, commit, export, archive, volumes, networks, plugins, swarm or system-wide operations).
 * Each route names the query parameters passed on to the engine; others are dropped, as the engine would
 * ignore them (dockerode, for one, repeats its options in the query).
 */
import { ProxyDenial, quote } from './denial.ts';
import type { RequestTarget } from './paths.ts';

export type RouteName =
  | 'ping'
  | 'version'
  | 'info'
  | 'events'
  | 'image.inspect'
  | 'container.create'
  | 'container.list'
  | 'container.inspect'
  | 'container.start'
  | 'container.wait'
  | 'container.attach'
  | 'container.logs'
  | 'container.stop'
  | 'container.kill'
  | 'container.remove'
  | 'container.resize'
  | 'exec.create'
  | 'exec.start'
  | 'exec.inspect'
  | 'exec.resize';

export interface Route {
  name: RouteName;
  methods: readonly string[];
  /** `METHOD /path/{param}`: the metric label of the endpoint, never a raw path. */
  template: string;
  query: readonly string[];
  /** Whether a caller may upgrade the connection to a raw stream (attach, exec start). */
  upgrade?: boolean;
}

export interface MatchedRoute {
  route: Route;
  /** The container (`{id}`), exec instance (`{exec}`) or image (`{image}`) the path names. */
  param: string | undefined;
  /** The query to pass on: known parameters only, each once. */
  query: URLSearchParams;
}

const ROUTES: Route[] = [
  { name: 'ping', methods: ['GET', 'HEAD'], template: '/_ping', query: [] },
  { name: 'version', methods: ['GET'], template: '/version', query: [] },
  { name: 'info', methods: ['GET'], template: '/info', query: [] },
  { name: 'events', methods: ['GET'], template: '/events', query: ['since', 'until', 'filters'] },
  { name: 'image.inspect', methods: ['GET'], template: '/images/{image}/json', query: [] },
  {
    name: 'container.create',
    methods: ['POST'],
    template: '/containers/create',
    query: ['name', 'platform'],
  },
  {
    name: 'container.list',
    methods: ['GET'],
    template: '/containers/json',
    query: ['all', 'limit', 'size', 'filters', 'before', 'since'],
  },
  { name: 'container.inspect', methods: ['GET'], template: '/containers/{id}/json', query: ['size'] },
  { name: 'container.start', methods: ['POST'], template: '/containers/{id}/start', query: ['detachKeys'] },
  { name: 'container.wait', methods: ['POST'], template: '/containers/{id}/wait', query: ['condition'] },
  {
    name: 'container.attach',
    methods: ['POST'],
    template: '/containers/{id}/attach',
    query: ['detachKeys', 'logs', 'stream', 'stdin', 'stdout', 'stderr'],
    upgrade: true,
  },
  {
    name: 'container.logs',
    methods: ['GET'],
    template: '/containers/{id}/logs',
    query: ['follow', 'stdout', 'stderr', 'since', 'until', 'timestamps', 'tail', 'details'],
  },
  { name: 'container.stop', methods: ['POST'], template: '/containers/{id}/stop', query: ['t'] },
  { name: 'container.kill', methods: ['POST'], template: '/containers/{id}/kill', query: ['signal'] },
  {
    name: 'container.remove',
    methods: ['DELETE'],
    template: '/containers/{id}',
    query: ['force', 'v', 'link'],
  },
  { name: 'container.resize', methods: ['POST'], template: '/containers/{id}/resize', query: ['h', 'w'] },
  { name: 'exec.create', methods: ['POST'], template: '/containers/{id}/exec', query: [] },
  { name: 'exec.start', methods: ['POST'], template: '/exec/{exec}/start', query: [], upgrade: true },
  { name: 'exec.inspect', methods: ['GET'], template: '/exec/{exec}/json', query: [] },
  { name: 'exec.resize', methods: ['POST'], template: '/exec/{exec}/resize', query: ['h', 'w'] },
];

/** A container id or name as the engine accepts them. */
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const EXEC_ID = /^[a-f0-9]{64}$/;
/** An image reference; checked properly by the image policy. */
const IMAGE_REF = /^[a-z0-9][a-zA-Z0-9._:@/-]*$/;

const SERVED =
  'this socket serves ping, version, info, events, image inspect, and create, list, inspect, start, wait, attach, logs, stop, kill, remove and exec of its own containers';

export function matchRoute(method: string, target: RequestTarget): MatchedRoute {
  const { segments } = target;
  const path = `/${segments.join('/')}`;
  for (const route of ROUTES) {
    const param = matchTemplate(route.template, segments);
    if (param === undefined) continue;
    if (!route.methods.includes(method)) continue;
    return { route, param: param === true ? undefined : param, query: pickQuery(route, target.query) };
  }
  throw new ProxyDenial(403, 'endpoint', `${method} ${quote(path)} is not allowed: ${SERVED}`);
}

/** The route's parameter when `segments` fit the template, true for a template without one. */
function matchTemplate(template: string, segments: string[]): string | true | undefined {
  const parts = template.slice(1).split('/');
  if (parts[1] === '{image}') {
    // An image name has slashes of its own: /images/{name...}/json.
    if (segments[0] !== 'images' || segments.at(-1) !== 'json' || segments.length < 3) return undefined;
    const image = segments.slice(1, -1).join('/');
    return IMAGE_REF.test(image) ? image : undefined;
  }
  if (parts.length !== segments.length) return undefined;
  let param: string | true = true;
  for (const [index, part] of parts.entries()) {
    const segment = segments[index] as string;
    if (part === '{id}' || part === '{exec}') {
      const pattern = part === '{id}' ? CONTAINER_REF : EXEC_ID;
      // `/containers/create` and `/containers/json` are routes of their own, listed first.
      if (!pattern.test(segment)) return undefined;
      param = segment;
    } else if (part !== segment) {
      return undefined;
    }
  }
  return param;
}

function pickQuery(route: Route, query: URLSearchParams): URLSearchParams {
  const kept = new URLSearchParams();
  for (const key of new Set(query.keys())) {
    if (!route.query.includes(key)) continue;
    const values = query.getAll(key);
    if (values.length > 1) {
      throw new ProxyDenial(400, 'query', `query parameter ${quote(key)} is given ${values.length} times`);
    }
    kept.set(key, values[0] as string);
  }
  return kept;
}
