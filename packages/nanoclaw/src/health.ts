/**
 * `GET /health`: every channel's state, the queue, the time of the last message, model usage today and
 * this month, retries today, messages given up on and held; 503 when no channel is connected (a
 * container health check then reports the assistant unreachable).
 */
import type { Channel } from './channels/channel.ts';

export interface HealthDeps {
  channels: Channel[];
  queueDepth(): number;
  runningAgents(): number;
  lastMessageAt(): number | undefined;
  /** Usage, retries and failures (usage/report.ts `usageHealth`), and how many messages are held. */
  accounting(): Record<string, unknown>;
}

/** `detailed` false: the status and each channel's state only (what an anonymous health check needs). */
export function health(deps: HealthDeps, detailed = true): { status: number; body: unknown } {
  const channels = Object.fromEntries(
    deps.channels.map((channel) => {
      const status = channel.status();
      return [channel.name, { state: status.state, ...(status.detail ? { detail: status.detail } : {}) }];
    }),
  );
  const connected = deps.channels.some((channel) => channel.status().state === 'connected');
  const last = deps.lastMessageAt();
  if (!detailed) {
    const states = Object.fromEntries(
      deps.channels.map((channel) => [channel.name, { state: channel.status().state }]),
    );
    return {
      status: connected ? 200 : 503,
      body: { status: connected ? 'ok' : 'no channel connected', channels: states },
    };
  }
  return {
    status: connected ? 200 : 503,
    body: {
      status: connected ? 'ok' : 'no channel connected',
      channels,
      queue: { depth: deps.queueDepth(), running: deps.runningAgents() },
      last_message_at: last === undefined ? null : new Date(last).toISOString(),
      ...deps.accounting(),
    },
  };
}
