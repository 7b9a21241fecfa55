/**
 * Instance networks on the Docker Engine API: one bridge per instance, its subnet taken explicitly from
 * a pool (Docker's default address pools hold only about 30 bridges), skipping every subnet an existing
 * network or a host route uses. The engine's IPAM is the record of which subnet a network has, so a
 * restarted daemon sees what it made before and never hands the same block out twice.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { EngineClient } from './engine-client.ts';
import { allowHostPorts, BRIDGE_PREFIX, revokeHostPorts } from './network-isolation.ts';
import { type NetworkInfo, type NetworkSpec, RuntimeError } from './runtime.ts';
import { firstFree, formatIpv4, formatSubnet, parseSubnet, prefixFor, type Subnet, size } from './subnets.ts';

/** 4096 blocks of 16 addresses (/28: 13 containers besides the gateway) by default. */
export const DEFAULT_NETWORK_POOL = '172.30.0.0/16';
/** The smallest block an instance network gets; larger when its children need more. */
const MIN_BLOCK_PREFIX = 28;
/** Another daemon may take the block just chosen: choose again, this many times. */
const MAX_ATTEMPTS = 16;
const ROUTES_FILE = '/proc/net/route';

/** The parts of `GET /networks` entries that NetworkInfo reads. */
interface RawNetwork {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
  IPAM: { Config: { Subnet?: string; Gateway?: string }[] | null } | null;
}

export class DockerNetworks {
  readonly #engine: EngineClient;
  readonly #pool: Subnet;
  /** Blocks this process is creating networks on right now, which the engine does not list yet. */
  readonly #pending: Subnet[] = [];
  readonly #removing = new Map<string, Promise<void>>();

  /** TCP ports of the host that instances may reach (BOILERHOUSE_HOST_PORTS). */
  readonly #hostPorts: readonly number[];

  constructor(engine: EngineClient, pool: string, hostPorts: readonly number[] = []) {
    this.#engine = engine;
    this.#pool = parseNetworkPool(pool);
    this.#hostPorts = hostPorts;
  }

  async create(spec: NetworkSpec): Promise<NetworkInfo> {
    const prefix = prefixFor(spec.members, Math.max(MIN_BLOCK_PREFIX, this.#pool.prefix));
    const refused: Subnet[] = [];
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const used = [...(await this.#usedSubnets()), ...this.#pending, ...refused];
      const subnet = firstFree(this.#pool, prefix, used);
      if (subnet === undefined) {
        throw new RuntimeError(
          `no free /${prefix} left in the instance network pool ${formatSubnet(this.#pool)} (BOILERHOUSE_NETWORK_POOL) for network ${spec.name}`,
        );
      }
      this.#pending.push(subnet);
      try {
        const network = await this.#createOn(spec, subnet);
        await allowHostPorts(bridgeName(spec.name), this.#hostPorts);
        return network;
      } catch (error) {
        // Another daemon on this engine took the block between the listing and the create.
        if (!(error instanceof RuntimeError && error.status === 403 && /overlaps/i.test(error.message)))
          throw error;
        refused.push(subnet);
      } finally {
        this.#pending.splice(this.#pending.indexOf(subnet), 1);
      }
    }
    throw new RuntimeError(`network ${spec.name}: every free block was taken by someone else meanwhile`);
  }

  /** A removal already under way is joined rather than raced (a destroy and recovery may both ask). */
  remove(name: string): Promise<void> {
    const pending = this.#removing.get(name);
    if (pending !== undefined) return pending;
    const removal = this.#removeNow(name).finally(() => this.#removing.delete(name));
    this.#removing.set(name, removal);
    return removal;
  }

  async #removeNow(name: string): Promise<void> {
    await revokeHostPorts(bridgeName(name), this.#hostPorts);
    const path = `/networks/${encodeURIComponent(name)}`;
    try {
      await this.#engine.call('DELETE', path);
    } catch (error) {
      if (error instanceof RuntimeError && error.status === 404) return;
      if (
        !(error instanceof RuntimeError && error.status === 403 && /active endpoints/.test(error.message))
      ) {
        throw error;
      }
      // Removed only once no container is on it. After an engine restart it can keep the endpoints of
      // containers that died with the engine (gone, or stopped): those are let go, then it is removed.
      await this.#disconnectAll(path);
      await this.#engine.call('DELETE', path);
    }
  }

  async #disconnectAll(path: string): Promise<void> {
    const network = await this.#engine.json<{ Containers: Record<string, { Name: string }> | null }>(
      'GET',
      path,
    );
    for (const [id, endpoint] of Object.entries(network.Containers ?? {})) {
      await this.#engine
        .call('POST', `${path}/disconnect`, { body: { Container: endpoint.Name || id, Force: true } })
        .catch((error: unknown) => {
          if (!(error instanceof RuntimeError && error.status === 404)) throw error;
        });
    }
  }

  async list(labels: Record<string, string>): Promise<NetworkInfo[]> {
    const filters = JSON.stringify({
      label: Object.entries(labels).map(([key, value]) => `${key}=${value}`),
    });
    const raw = await this.#engine.json<RawNetwork[]>(
      'GET',
      `/networks?filters=${encodeURIComponent(filters)}`,
    );
    return raw.map(toNetworkInfo);
  }

  async #createOn(spec: NetworkSpec, subnet: Subnet): Promise<NetworkInfo> {
    const gateway = formatIpv4(subnet.base + 1);
    const created = await this.#engine.json<{ Id: string }>('POST', '/networks/create', {
      body: {
        Name: spec.name,
        CheckDuplicate: true,
        Driver: 'bridge',
        Internal: !spec.outbound,
        Attachable: false,
        EnableIPv6: false,
        Labels: spec.labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: formatSubnet(subnet), Gateway: gateway }] },
        Options: {
          // The instance and its children talk to one another; other networks are Docker's to keep apart.
          'com.docker.network.bridge.enable_icc': 'true',
          // A name the host isolation rules match (`bh+`): at most 15 characters, the kernel's limit.
          'com.docker.network.bridge.name': bridgeName(spec.name),
        },
      },
    });
    return { id: created.Id, name: spec.name, labels: spec.labels, subnet: formatSubnet(subnet), gateway };
  }

  /** Every subnet a Docker network or a host route (other than the default route) already covers. */
  async #usedSubnets(): Promise<Subnet[]> {
    const networks = await this.#engine.json<RawNetwork[]>('GET', '/networks');
    const fromNetworks = networks.flatMap((network) =>
      (network.IPAM?.Config ?? []).flatMap((config) => {
        const subnet = parseSubnet(config.Subnet ?? '');
        return subnet === undefined ? [] : [subnet];
      }),
    );
    return [...fromNetworks, ...parseRoutes(await readFile(ROUTES_FILE, 'utf8'))];
  }
}

/** `bh` and 10 hex digits of the network's name: deterministic, and unique as far as names are. */
export function bridgeName(network: string): string {
  return `${BRIDGE_PREFIX}${createHash('sha256').update(network).digest('hex').slice(0, 10)}`;
}

/** The pool setting, checked: an IPv4 CIDR that holds at least one instance block. */
export function parseNetworkPool(text: string): Subnet {
  const pool = parseSubnet(text);
  if (pool === undefined || pool.prefix > MIN_BLOCK_PREFIX) {
    throw new RuntimeError(
      `BOILERHOUSE_NETWORK_POOL must be an IPv4 block of /${MIN_BLOCK_PREFIX} or larger such as ${DEFAULT_NETWORK_POOL}, got ${JSON.stringify(text)}`,
    );
  }
  return pool;
}

/** Destinations of /proc/net/route (little-endian hex), without the default route, which covers all. */
export function parseRoutes(text: string): Subnet[] {
  const routes: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const destination = fields[1];
    const mask = fields[7];
    if (destination === undefined || mask === undefined) continue;
    const prefix = bitCount(littleEndian(mask));
    if (prefix === 0) continue;
    const base = littleEndian(destination);
    routes.push({ base: base - (base % size(prefix)), prefix });
  }
  return routes;
}

function littleEndian(hex: string): number {
  const bytes = Buffer.from(hex.padStart(8, '0'), 'hex');
  return bytes.readUInt32LE(0);
}

function bitCount(mask: number): number {
  let bits = 0;
  for (let value = mask; value > 0; value = Math.floor(value / 2)) bits += value % 2;
  return bits;
}

function toNetworkInfo(raw: RawNetwork): NetworkInfo {
  const config = raw.IPAM?.Config?.find((entry) => parseSubnet(entry.Subnet ?? '') !== undefined);
  return {
    id: raw.Id,
    name: raw.Name,
    labels: raw.Labels ?? {},
    ...(config?.Subnet ? { subnet: config.Subnet } : {}),
    ...(config?.Gateway ? { gateway: config.Gateway } : {}),
  };
}
