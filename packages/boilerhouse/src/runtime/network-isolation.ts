/**
 * Host isolation of instance networks. A container on a bridge can open connections to every address of
 * the host (its gateway, docker0, the LAN address) on any port the host listens on, the daemon's API
 * included; Docker's own chains only stop forwarding between bridges. So every instance bridge (named
 * `bh...`, see networks.ts) jumps from INPUT to a chain of ours that lets replies in (the daemon's own
 * connections to instances, e.g. readiness probes) and drops anything new.
 *
 * Docker's embedded DNS needs nothing here: 127.0.0.11 lives in the container's own namespace, and the
 * engine forwards upstream queries from the host's namespace itself, never through INPUT. IPv6 needs
 * nothing either: instance networks have it off, and the engine disables it in their containers.
 *
 * Installed idempotently under a host-wide lock, so daemons starting at once (parallel tests) never
 * duplicate the jump; the chain's contents are replaced in one iptables-restore transaction.
 *
 * An operator may let instances reach named TCP ports of the host (BOILERHOUSE_HOST_PORTS: a model
 * gateway running beside the daemon, say). Those allowances are rules per bridge, in a chain of their own
 * that the isolation chain consults before its DROP: each daemon adds and removes the rules of its own
 * networks, so daemons with different settings on one host never undo one another's.
 */
import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';
import { withHostLock } from './host-lock.ts';
import { RuntimeError } from './runtime.ts';

/** Every instance bridge's name starts with this; iptables matches them all as `bh+`. */
export const BRIDGE_PREFIX = 'bh';
export const ISOLATION_CHAIN = 'BOILERHOUSE-ISOLATION';
export const ISOLATION_JUMP = ['INPUT', '-i', `${BRIDGE_PREFIX}+`, '-j', ISOLATION_CHAIN] as const;
export const HOST_PORTS_CHAIN = 'BOILERHOUSE-HOST-PORTS';
/** iptables' multiport match takes at most 15 ports. */
export const MAX_HOST_PORTS = 15;
const LOCK_TIMEOUT_MS = 30_000;

const run = promisify(execFile);

const CHAIN_RULES = [
  `*filter`,
  // With --noflush, declaring the chain creates it or empties just it: the table stays as it was.
  `:${ISOLATION_CHAIN} - [0:0]`,
  `-A ${ISOLATION_CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN`,
  `-A ${ISOLATION_CHAIN} -j ${HOST_PORTS_CHAIN}`,
  `-A ${ISOLATION_CHAIN} -j DROP`,
  'COMMIT',
  '',
].join('\n');

/** Makes sure no instance bridge can open a connection to the host. */
export async function isolateInstanceNetworks(): Promise<void> {
  try {
    await withHostLock('boilerhouse-network-isolation', LOCK_TIMEOUT_MS, async () => {
      // Made, never emptied here: it holds the allowances of every daemon's networks.
      if (!(await hasChain(HOST_PORTS_CHAIN))) await iptables(['-N', HOST_PORTS_CHAIN]);
      await dropAllowancesOfGoneBridges();
      await restore(CHAIN_RULES);
      if (!(await hasRule(ISOLATION_JUMP))) await iptables(['-I', 'INPUT', '1', ...ISOLATION_JUMP.slice(1)]);
    });
  } catch (error) {
    throw new RuntimeError(
      `cannot isolate instance networks from the host (iptables, as root): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The rules of the filter table that mention `bh+` or our chains, as `iptables -S` prints them. */
export async function isolationRules(): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-S']);
  return stdout
    .split('\n')
    .filter((line) =>
      [ISOLATION_CHAIN, HOST_PORTS_CHAIN, `${BRIDGE_PREFIX}+`].some((part) => line.includes(part)),
    );
}

/** The rule that lets `bridge` reach `ports` of the host; none when `ports` is empty. */
function allowance(bridge: string, ports: readonly number[]): string[] {
  return ['-i', bridge, '-p', 'tcp', '-m', 'multiport', '--dports', ports.join(','), '-j', 'ACCEPT'];
}

/** Lets the instance bridge `bridge` open connections to these TCP ports of the host. */
export async function allowHostPorts(bridge: string, ports: readonly number[]): Promise<void> {
  if (ports.length === 0) return;
  const rule = [HOST_PORTS_CHAIN, ...allowance(bridge, ports)];
  if (!(await hasRule(rule))) await iptables(['-A', ...rule]);
}

/** Takes back what allowHostPorts gave `bridge` (nothing to take back is not an error). */
export async function revokeHostPorts(bridge: string, ports: readonly number[]): Promise<void> {
  if (ports.length === 0) return;
  const rule = [HOST_PORTS_CHAIN, ...allowance(bridge, ports)];
  while (await hasRule(rule)) await iptables(['-D', ...rule]);
}

/** Allowances whose bridge no longer exists (its daemon was killed before it removed them). */
async function dropAllowancesOfGoneBridges(): Promise<void> {
  const { stdout } = await run('iptables', ['-w', '-S', HOST_PORTS_CHAIN]);
  for (const line of stdout.split('\n')) {
    const bridge = /^-A \S+ -i (\S+) /.exec(line)?.[1];
    if (bridge === undefined || (await interfaceExists(bridge))) continue;
    await iptables(['-D', ...line.slice('-A '.length).split(' ')]);
  }
}

async function interfaceExists(name: string): Promise<boolean> {
  try {
    await access(`/sys/class/net/${name}`);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function hasChain(chain: string): Promise<boolean> {
  try {
    await iptables(['-S', chain]);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 1) return false;
    throw error;
  }
}

async function hasRule(rule: readonly string[]): Promise<boolean> {
  try {
    await iptables(['-C', ...rule]);
    return true;
  } catch (error) {
    // iptables -C exits 1 for "no such rule"; anything else (2: bad usage, 4: resource problem) is real.
    if ((error as { code?: unknown }).code === 1) return false;
    throw error;
  }
}

async function iptables(args: string[]): Promise<void> {
  await run('iptables', ['-w', ...args]);
}

function restore(rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-restore', ['-w', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`iptables-restore exited with ${code}: ${stderr.trim()}`));
    });
    child.stdin.end(rules);
  });
}
