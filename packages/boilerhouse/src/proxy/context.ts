/**
 * What the endpoint handlers share: the instance's context, the request as they see it, and the outcome
 * they give the server (an answer, or a request for the engine and how to show its answer).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import type { EngineClient } from '../runtime/engine-client.ts';
import type { InstanceVolume } from './binds.ts';
import type { Children } from './children.ts';
import type { ChildPolicy } from './create-policy.ts';
import type { ImageAllowlist } from './images.ts';
import type { BindPins } from './pins.ts';

export interface ProxyContext {
  engine: EngineClient;
  children: Children;
  pins: BindPins;
  images: ImageAllowlist;
  policy: ChildPolicy;
  /** The current tenant's secret values, by name (secret-leaks.ts). */
  tenantSecrets: () => Promise<ReadonlyMap<string, string>>;
  volumes: readonly InstanceVolume[];
  /** The labels that make a container this instance's child. */
  childLabels: Record<string, string>;
  /** Exec instances already seen to belong to a child. */
  execs: Set<string>;
  /** Which pin directory each child's bind sources are in (child id -> pin key). */
  pinned: Map<string, string>;
  /** Allowed references the engine was seen to resolve as tagged (image -> until when, ms). */
  verifiedImages: Map<string, number>;
  /** Runs `work` after every earlier call has finished (creates are counted, then made, one at a time). */
  serialize: <T>(work: () => Promise<T>) => Promise<T>;
  /** Work that nobody waits for (releasing pins of removed containers). */
  background: (work: () => Promise<unknown>) => void;
}

export interface ProxyRequest {
  method: string;
  param: string | undefined;
  query: URLSearchParams;
  body: Buffer;
  headers: IncomingHttpHeaders;
}

export type Outcome =
  | { kind: 'reply'; status: number; body: Buffer }
  | {
      kind: 'forward';
      method: string;
      /** Engine path with its query, without the version prefix. */
      path: string;
      body?: unknown;
      /** Rewrites a successful answer (read whole). */
      view?: (body: Buffer) => Buffer;
      /** Rewrites a successful answer as it streams. */
      stream?: () => Transform;
      /** Told the engine's status once it answers. */
      after?: (status: number) => void;
    };

export type Handler = (context: ProxyContext, request: ProxyRequest) => Promise<Outcome>;

export const forward = (
  method: string,
  path: string,
  extra: Partial<Extract<Outcome, { kind: 'forward' }>> = {},
): Outcome => ({
  kind: 'forward',
  method,
  path,
  ...extra,
});

export const withQuery = (path: string, query: URLSearchParams) =>
  query.size > 0 ? `${path}?${query}` : path;
