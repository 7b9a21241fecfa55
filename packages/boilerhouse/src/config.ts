/** The daemon's settings, from the environment. */
import { resolve } from 'node:path';
import { MAX_HOST_PORTS } from './runtime/network-isolation.ts';
import { DEFAULT_NETWORK_POOL, parseNetworkPool } from './runtime/networks.ts';
import { DEFAULT_STATE_CACHE_BYTES } from './state/sinks/object-cache.ts';

export interface Config {
  /** Database, instance directories and local sinks live here. */
  dataDir: string;
  /** Workload files (*.yaml) are read and watched here. */
  workloadsDir: string;
  host: string;
  port: number;
  /** Host address instance ports are published on. */
  publishHost: string;
  /** IPv4 block each instance's own network gets its subnet from (a /28 or more each). */
  networkPool: string;
  /** TCP ports of this host that instances may connect to (a model gateway beside the daemon, say). */
  hostPorts: number[];
  /** The statically linked gate binary mounted into every instance. */
  gateBinary: string;
  /** Tenants' traffic (gateway/): on `host`, this port. */
  gatewayPort: number;
  /** Host-form addresses are `<label>.<gatewayDomain>`; null: the path form only. */
  gatewayDomain: string | null;
  /** The most this host's cache of S3 saves' objects may hold; 0: none. */
  stateCacheBytes: number;
}

const PACKAGE_ROOT = resolve(import.meta.dirname, '..');
/**
 * The checkout the daemon runs from: its default data and workloads directories are here, whoever starts
 * it from wherever (a service manager's working directory is not the operator's).
 */
const REPO_ROOT = resolve(PACKAGE_ROOT, '../..');

export function configFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): Config {
  const port = Number(env.BOILERHOUSE_PORT ?? 7070);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`BOILERHOUSE_PORT must be a port number, got ${JSON.stringify(env.BOILERHOUSE_PORT)}`);
  }
  const gatewayPort = Number(env.BOILERHOUSE_GATEWAY_PORT ?? 7080);
  if (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65535) {
    throw new Error(
      `BOILERHOUSE_GATEWAY_PORT must be a port number, got ${JSON.stringify(env.BOILERHOUSE_GATEWAY_PORT)}`,
    );
  }
  if (gatewayPort !== 0 && gatewayPort === port)
    throw new Error(`BOILERHOUSE_GATEWAY_PORT and BOILERHOUSE_PORT are both ${port}`);
  return {
    gatewayPort,
    gatewayDomain: parseGatewayDomain(env.BOILERHOUSE_GATEWAY_DOMAIN),
    // A path given is taken from the current directory, as a shell user expects; the defaults are not.
    dataDir: resolve(cwd, env.BOILERHOUSE_DATA_DIR ?? resolve(REPO_ROOT, '.data/boilerhouse')),
    workloadsDir: resolve(cwd, env.BOILERHOUSE_WORKLOADS_DIR ?? resolve(REPO_ROOT, 'workloads')),
    host: env.BOILERHOUSE_HOST ?? '127.0.0.1',
    port,
    publishHost: env.BOILERHOUSE_PUBLISH_HOST ?? '127.0.0.1',
    networkPool: checkedNetworkPool(env.BOILERHOUSE_NETWORK_POOL ?? DEFAULT_NETWORK_POOL),
    hostPorts: parseHostPorts(env.BOILERHOUSE_HOST_PORTS, port),
    gateBinary: env.BOILERHOUSE_GATE ?? resolve(PACKAGE_ROOT, 'native/build/boilerhouse-gate'),
    stateCacheBytes: parseStateCacheMib(env.BOILERHOUSE_STATE_CACHE_MIB),
  };
}

/** `tenants.example.org`: tenants are `<label>.tenants.example.org` (a wildcard DNS name and certificate). */
export function parseGatewayDomain(text: string | undefined): string | null {
  if (text === undefined || text.trim() === '') return null;
  const domain = text.trim().toLowerCase().replace(/\.$/, '');
  const label = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
  if (!new RegExp(`^${label}(\\.${label})*$`).test(domain) || domain.length > 200)
    throw new Error(
      `BOILERHOUSE_GATEWAY_DOMAIN must be a DNS name like tenants.example.org, got ${JSON.stringify(text)}`,
    );
  return domain;
}

/** `BOILERHOUSE_STATE_CACHE_MIB=512`: the cache's bound in MiB; 0 turns it off. */
export function parseStateCacheMib(text: string | undefined): number {
  const given = text?.trim() ?? '';
  if (given === '') return DEFAULT_STATE_CACHE_BYTES;
  const mib = /^\d{1,9}$/.test(given) ? Number(given) : Number.NaN;
  if (!Number.isSafeInteger(mib))
    throw new Error(
      `BOILERHOUSE_STATE_CACHE_MIB must be a whole number of MiB (0 turns the cache off), got ${JSON.stringify(text)}`,
    );
  return mib * 1024 * 1024;
}

/** Settled at start: a bad pool would otherwise fail only at the first instance. */
function checkedNetworkPool(text: string): string {
  parseNetworkPool(text);
  return text;
}

/**
 * `BOILERHOUSE_HOST_PORTS=4000,8080`: instances are kept from every host service unless the operator names
 * its port here. The daemon's own API port is refused: instances must never reach it.
 */
export function parseHostPorts(text: string | undefined, apiPort: number): number[] {
  if (text === undefined || text.trim() === '') return [];
  const ports = text.split(',').map((part) => part.trim());
  const problem = (why: string) =>
    new Error(`BOILERHOUSE_HOST_PORTS must be up to ${MAX_HOST_PORTS} TCP ports like 4000,8080: ${why}`);
  if (ports.length > MAX_HOST_PORTS) throw problem(`got ${ports.length}`);
  return ports.map((part) => {
    const port = /^\d{1,5}$/.test(part) ? Number(part) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) throw problem(`${JSON.stringify(part)} is not a port`);
    if (port === apiPort)
      throw problem(`${port} is the API's port (BOILERHOUSE_PORT), which instances never reach`);
    return port;
  });
}
