/**
 * A filtered socket for tests, on the real engine, without a whole Boilerhouse: an instance directory of
 * its own (state volume with a few files), a fresh instance id (so that its children are its own), the
 * refusals it reported, and a cleanup that removes its children and proves none is left.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerAccessSpec } from '@boilerhouse/spec';
import { createLogger, type Logger } from '../log.ts';
import { EngineClient } from '../runtime/engine-client.ts';
import type { RunAs } from './child-identity.ts';
import { CHILD_LABEL } from './children.ts';
import type { DenialReason } from './denial.ts';
import { DockerProxy } from './server.ts';

/** A small image every test machine has (scripts/setup.sh builds it). */
export const CHILD_IMAGE = 'boilerhouse/base:bookworm';
const MIB = 1024 * 1024;

export interface TestProxy {
  proxy: DockerProxy;
  socketPath: string;
  instanceId: string;
  daemonId: string;
  /** Host directory of the state volume, which the instance sees at /data. */
  stateDir: string;
  engine: EngineClient;
  denials: { endpoint: string; reason: DenialReason }[];
  /** The secrets of the instance's current tenant, as the proxy asks for them (name -> value). */
  tenantSecrets: Map<string, string>;
  /** Log lines the proxy wrote. */
  logs: string[];
  /** Stops the proxy, removes its children and directory; returns how many children were still there. */
  cleanup(): Promise<number>;
}

export async function startTestProxy(
  access: Partial<DockerAccessSpec> = {},
  options: { networkMode?: 'bridge' | 'none'; daemonId?: string; runAs?: RunAs } = {},
): Promise<TestProxy> {
  // As NanoClaw's workload runs: the state volume is the instance's user's, and so are its children.
  const runAs = options.runAs ?? { uid: 1000, gid: 1000 };
  const root = await mkdtemp(join(tmpdir(), 'bh-proxy-'));
  const instanceId = `test-${randomBytes(5).toString('hex')}`;
  const daemonId = options.daemonId ?? `test-daemon-${randomBytes(4).toString('hex')}`;
  const stateDir = join(root, 'volumes', 'state');
  await mkdir(join(stateDir, 'groups', 'main'), { recursive: true });
  await writeFile(join(stateDir, 'groups', 'main', 'CLAUDE.md'), 'memory of the main group\n');
  await writeFile(join(stateDir, 'top.txt'), 'top of the state volume\n');
  for (const entry of ['', ...(await readdir(stateDir, { recursive: true }))])
    await chown(join(stateDir, entry), runAs.uid, runAs.gid);
  const tenantSecrets = new Map<string, string>();
  const engine = new EngineClient(process.env.DOCKER_HOST);
  const logs: string[] = [];
  const log: Logger = createLogger({ write: (line) => logs.push(line), format: 'json' });
  const denials: TestProxy['denials'] = [];
  const socketPath = join(root, 'docker', 'docker.sock');
  const proxy = await DockerProxy.open({
    socketPath,
    pinsDir: join(root, 'docker-pins'),
    instanceId,
    workloadId: 'test',
    daemonId,
    access: {
      images: [`${CHILD_IMAGE.split(':')[0]}:*`],
      maxContainers: 3,
      limits: { cpus: 0.5, memory: 64 * MIB, pids: 64 },
      exec: false,
      readOnly: true,
      onRelease: 'remove',
      capabilities: [],
      ...access,
    },
    networkMode: options.networkMode ?? 'bridge',
    runAs,
    tenantSecrets: async () => tenantSecrets,
    volumes: [{ target: '/data', hostPath: stateDir, readOnly: false }],
    engine,
    log,
    onDenied: (denial) => denials.push(denial),
  });
  return {
    proxy,
    socketPath,
    instanceId,
    daemonId,
    stateDir,
    engine,
    denials,
    tenantSecrets,
    logs,
    async cleanup() {
      const left = await proxy.removeChildren();
      await proxy.close();
      engine.close();
      await rm(root, { recursive: true, force: true });
      return left;
    },
  };
}

/** Ids of containers on the engine carrying this instance's child label (found without the proxy). */
export async function childrenOnEngine(engine: EngineClient, instanceId: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${CHILD_LABEL.parent}=${instanceId}`] });
  const list = await engine.json<{ Id: string }[]>(
    'GET',
    `/containers/json?all=1&filters=${encodeURIComponent(filters)}`,
  );
  return list.map((container) => container.Id);
}

/** Writes raw bytes to a unix socket and returns everything that comes back until it closes. */
export function rawExchange(socketPath: string, bytes: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The proxy may answer and hang up before all of a refused body is written.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.write(bytes);
  });
}

/** One request over the socket with a JSON body; the status and the parsed answer. */
export async function callProxy(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: { message?: string } & Record<string, unknown> }> {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const request = [
    `${method} ${path} HTTP/1.1`,
    'Host: docker',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(payload)}`,
    'Connection: close',
    '',
    payload,
  ].join('\r\n');
  return parseResponse(await rawExchange(socketPath, request));
}

/** Status and JSON body of one raw HTTP/1.1 response (chunked or not). */
export function parseResponse(text: string): {
  status: number;
  body: { message?: string } & Record<string, unknown>;
} {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const split = text.indexOf('\r\n\r\n');
  let body = split === -1 ? '' : text.slice(split + 4);
  if (/\r\ntransfer-encoding: chunked\r\n/i.test(text.slice(0, split + 2))) body = unchunk(body);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
  } catch {
    parsed = { raw: body };
  }
  return { status, body: parsed };
}

function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 4 + size);
  }
}
