/**
 * The control protocol between the daemon and the socket host: one JSON object per line over a unix
 * socket only root can reach. The daemon speaks first (`hello`), then sends requests with an `id`; the host
 * answers each with the same `id`, and reports refusals (`denied`) unasked.
 *
 *   daemon -> host  {"type":"hello","version":1,"daemonId":"..."}
 *   host -> daemon  {"type":"hello","version":1,"pid":123,"open":["echo-1a2b"]}
 *   daemon -> host  {"id":7,"type":"removeChildren","instanceId":"echo-1a2b"}
 *   host -> daemon  {"type":"reply","id":7,"ok":true,"result":2}
 *   host -> daemon  {"type":"denied","workload":"echo","endpoint":"POST /containers/create","reason":"bind"}
 *
 * Version 2 adds the gateway (gateway/): the daemon has it listen and keeps its table (`gateway`,
 * `gatewayTable`, `wakeDone`); the host asks for wakes (`wake`, again after each hello while the wake is
 * pending) and reports traffic (`traffic`) unasked.
 *
 * `hello` and `shutdown` keep their shape in every version: a daemon that finds a host of another version
 * asks it to shut down (cutting the streams it serves) and starts its own.
 */
import type { DockerAccessSpec } from '@boilerhouse/spec';
import type {
  GatewayListen,
  GatewayTableChange,
  TrafficReport,
  WakeAsk,
  WakeOutcome,
} from '../../gateway/wire.ts';
import type { Owner } from '../../owner.ts';
import type { InstanceVolume } from '../binds.ts';
import type { RunAs } from '../child-identity.ts';

export const PROTOCOL_VERSION = 2;
/** The longest line either side accepts: an open request with its secrets fits many times over. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** What the host needs to serve one instance's socket: DockerProxyOptions without the live parts. */
export interface OpenSpec {
  instanceId: string;
  workloadId: string;
  daemonId: string;
  socketPath: string;
  pinsDir: string;
  access: DockerAccessSpec;
  networkMode: string;
  volumes: InstanceVolume[];
  owner?: Owner;
  runAs: RunAs;
}

/** A tenant's secret values as pairs (name, value): sent over the control socket only, kept in memory. */
export type SecretPairs = [string, string][];

/** The kinds of request, written once: the host's dispatch and the daemon's calls both follow it. */
export interface Requests {
  /** Serves the socket (no-op when served: its secrets are replaced). */
  open: { params: { spec: OpenSpec; secrets: SecretPairs }; result: null };
  /** Stops serving and removes the instance's children and pins. */
  close: { params: { instanceId: string }; result: null };
  /** Removes the instance's children (release); the socket keeps serving. Their number. */
  removeChildren: { params: { instanceId: string }; result: number };
  /** Closes every socket not in `alive`, then removes this daemon's children whose instance is not. */
  removeOrphans: { params: { daemonId: string; alive: string[] }; result: number };
  /** Replaces the secret values of the instance's current tenant. */
  secrets: { params: { instanceId: string; secrets: SecretPairs }; result: null };
  /** Closes every socket and exits. */
  shutdown: { params: Record<string, never>; result: null };
  /** Serves the gateway there (no-op when it already does); the port it listens on. */
  gateway: { params: { listen: GatewayListen }; result: { port: number } };
  /** Changes the gateway's table of workloads, routes, links and known tenants. */
  gatewayTable: { params: { change: GatewayTableChange }; result: null };
  /** The end of a wake the gateway asked for: its held requests go on (or get the error). */
  wakeDone: { params: { outcome: WakeOutcome }; result: null };
}
export type RequestType = keyof Requests;
export const REQUEST_TYPES: readonly RequestType[] = [
  'open',
  'close',
  'removeChildren',
  'removeOrphans',
  'secrets',
  'shutdown',
  'gateway',
  'gatewayTable',
  'wakeDone',
];

export type Request = { [T in RequestType]: { id: number; type: T } & Requests[T]['params'] }[RequestType];

export interface DaemonHello {
  type: 'hello';
  version: number;
  daemonId: string;
}
export interface HostHello {
  type: 'hello';
  version: number;
  pid: number;
  /** The instances whose sockets it serves. */
  open: string[];
}
export interface Denied {
  type: 'denied';
  workload: string;
  endpoint: string;
  reason: string;
}
export type Reply =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };
/** A frame the other side could not read; the connection is closed after it. */
export interface FrameError {
  type: 'error';
  error: string;
}
export type HostMessage = HostHello | Denied | Reply | FrameError | WakeAsk | TrafficReport;
export type DaemonMessage = DaemonHello | Request;

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeFrame(message: DaemonMessage | HostMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** What the daemon may send: a hello, or a request of a known type with an integer id. */
export function parseDaemonMessage(value: unknown): DaemonMessage {
  const message = objectOf(value);
  if (message.type === 'hello') {
    if (typeof message.version !== 'number') throw new ProtocolError('hello without a numeric "version"');
    if (typeof message.daemonId !== 'string') throw new ProtocolError('hello without a "daemonId"');
    return message as unknown as DaemonHello;
  }
  if (!REQUEST_TYPES.includes(message.type as RequestType)) {
    throw new ProtocolError(
      `unknown request type ${JSON.stringify(message.type)}; known: hello, ${REQUEST_TYPES.join(', ')}`,
    );
  }
  if (!Number.isSafeInteger(message.id))
    throw new ProtocolError(`request ${message.type} without an integer "id"`);
  const needs = REQUIRED[message.type as RequestType];
  for (const field of needs) {
    if (message[field] === undefined) throw new ProtocolError(`request ${message.type} without "${field}"`);
  }
  return message as unknown as Request;
}

const REQUIRED: Record<RequestType, string[]> = {
  open: ['spec', 'secrets'],
  close: ['instanceId'],
  removeChildren: ['instanceId'],
  removeOrphans: ['daemonId', 'alive'],
  secrets: ['instanceId', 'secrets'],
  shutdown: [],
  gateway: ['listen'],
  gatewayTable: ['change'],
  wakeDone: ['outcome'],
};

/** What the host may send: its hello, a reply to a request, a denial, or a frame error. */
export function parseHostMessage(value: unknown): HostMessage {
  const message = objectOf(value);
  if (message.type === 'hello') {
    if (typeof message.version !== 'number' || !Array.isArray(message.open))
      throw new ProtocolError('host hello without "version" and "open"');
    return message as unknown as HostHello;
  }
  if (
    message.type === 'denied' ||
    message.type === 'error' ||
    message.type === 'wake' ||
    message.type === 'traffic'
  )
    return message as unknown as HostMessage;
  if (message.type === 'reply' && Number.isSafeInteger(message.id) && typeof message.ok === 'boolean')
    return message as unknown as Reply;
  throw new ProtocolError(`unknown message from the socket host: ${JSON.stringify(message).slice(0, 120)}`);
}

function objectOf(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('a frame must be a JSON object');
  }
  return value as Record<string, unknown>;
}
