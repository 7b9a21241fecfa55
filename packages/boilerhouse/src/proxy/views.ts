/**
 * What the caller sees of the engine: only its own children (listing, inspect, events), under the names it
 * gave them, and an `info` that tells nothing about the rest of the host. Listing and events are filtered
 * twice: by a label filter the engine applies, then entry by entry here.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CHILD_LABEL, type Children } from './children.ts';
import { ProxyDenial } from './denial.ts';

/** The caller's `filters` query (either of the engine's two JSON shapes) with the child label added. */
export function ownFilters(filters: string | null, children: Children): string {
  const out: Record<string, string[]> = {};
  if (filters !== null && filters !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(filters);
    } catch {
      throw new ProxyDenial(400, 'query', 'query parameter "filters" is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ProxyDenial(400, 'query', 'query parameter "filters" must be a JSON object');
    }
    for (const [key, value] of Object.entries(parsed)) {
      const values = Array.isArray(value)
        ? value
        : typeof value === 'object' && value !== null
          ? Object.keys(value)
          : undefined;
      if (values === undefined || values.some((item) => typeof item !== 'string')) {
        throw new ProxyDenial(400, 'query', `filter ${JSON.stringify(key)} must be a list of strings`);
      }
      out[key] = values as string[];
    }
  }
  // Events match `container` by id or exact name, and the engine knows children by their prefixed names.
  if (out.container !== undefined) {
    out.container = out.container.flatMap((value) => [value, children.engineName(value)]);
  }
  // Label filters are ANDed: whatever else the caller asks, only its children match.
  out.label = [...(out.label ?? []), `${CHILD_LABEL.parent}=${children.instanceId}`];
  return JSON.stringify(out);
}

interface Summary {
  Names?: string[] | null;
  Labels?: Record<string, string> | null;
}

/** GET /containers/json: own children only, under their own names. */
export function ownList(body: Buffer, children: Children): Buffer {
  const list = JSON.parse(body.toString('utf8')) as Summary[];
  const own = list
    .filter((entry) => children.owns(entry.Labels))
    .map((entry) => ({ ...entry, Names: (entry.Names ?? []).map((name) => children.callerName(name)) }));
  return Buffer.from(JSON.stringify(own));
}

/** GET /containers/{id}/json of a child: its own name. */
export function ownInspect(body: Buffer, children: Children): Buffer {
  const container = JSON.parse(body.toString('utf8')) as { Name?: string };
  if (typeof container.Name === 'string') container.Name = children.callerName(container.Name);
  return Buffer.from(JSON.stringify(container));
}

/** GET /info: the engine's version and the machine's size, and counts of the caller's own children. */
export function ownInfo(body: Buffer, states: string[]): Buffer {
  const info = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const kept = Object.fromEntries(
    INFO_FIELDS.filter((field) => field in info).map((field) => [field, info[field]]),
  );
  const count = (state: string) => states.filter((candidate) => candidate === state).length;
  return Buffer.from(
    JSON.stringify({
      ...kept,
      Containers: states.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: states.length - count('running') - count('paused'),
      Images: 0,
    }),
  );
}

const INFO_FIELDS = [
  'ServerVersion',
  'OperatingSystem',
  'OSType',
  'OSVersion',
  'Architecture',
  'KernelVersion',
  'NCPU',
  'MemTotal',
  'Driver',
  'CgroupDriver',
  'CgroupVersion',
  'DefaultRuntime',
  'MemoryLimit',
  'SwapLimit',
  'CpuCfsPeriod',
  'CpuCfsQuota',
  'CPUShares',
  'CPUSet',
  'PidsLimit',
  'OomKillDisable',
  'IPv4Forwarding',
  'Isolation',
  'ExperimentalBuild',
  'SecurityOptions',
];

interface EngineEvent {
  Actor?: { Attributes?: Record<string, string> | null } | null;
}

/** GET /events: line by line, the caller's children's events only, under their own names. */
export function ownEvents(children: Children): Transform {
  let pending = '';
  const decoder = new StringDecoder('utf8');
  const emit = (line: string, push: (text: string) => void) => {
    if (line.trim() === '') return;
    let event: EngineEvent;
    try {
      event = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    const attributes = event.Actor?.Attributes;
    if (attributes?.[CHILD_LABEL.parent] !== children.instanceId) return;
    if (typeof attributes.name === 'string') attributes.name = children.callerName(attributes.name);
    push(`${JSON.stringify(event)}\n`);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) emit(line, (text) => this.push(text));
      done();
    },
    flush(done: TransformCallback) {
      emit(pending + decoder.end(), (text) => this.push(text));
      done();
    },
  });
}
