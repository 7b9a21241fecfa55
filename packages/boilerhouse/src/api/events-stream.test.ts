/** The live event stream (server-sent events): new events as they happen, and resuming with Last-Event-ID. */
import { readSse } from '@boilerhouse/kit/sse';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startEchoApi, type TestApi } from '../testing/api.ts';
import type { Harness } from '../testing/harness.ts';

let harness: Harness;
let api: TestApi;

beforeAll(async () => {
  ({ harness, api } = await startEchoApi());
});

afterAll(async () => {
  await harness.cleanup();
});

interface SseEvent {
  id: string;
  data: { id: number; type: string; message: string };
}

/** Reads events from an open stream until `count` have come. */
async function readEvents(response: Response, count: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const message of readSse(response.body as ReadableStream<Uint8Array>)) {
    events.push({ id: message.id ?? '', data: JSON.parse(message.data) });
    if (events.length >= count) break;
  }
  return events;
}

test('streams events as they are recorded, with their ids', async () => {
  const response = await api.request('/api/v1/events/stream');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reading = readEvents(response, 2);
  harness.boilerhouse.activity.record({ type: 'pool.warning', message: 'first' });
  harness.boilerhouse.activity.record({ type: 'pool.warning', message: 'second' });
  const events = await reading;
  expect(events.map((event) => event.data.message)).toEqual(['first', 'second']);
  expect(events[0]?.id).toBe(String(events[0]?.data.id));
});

test('a client that reconnects with Last-Event-ID gets what it missed, in order, then live events', async () => {
  const before = harness.boilerhouse.activity.record({ type: 'pool.warning', message: 'seen' });
  for (const message of ['missed 1', 'missed 2', 'missed 3']) {
    harness.boilerhouse.activity.record({ type: 'pool.warning', message });
  }
  const response = await api.request('/api/v1/events/stream', {
    headers: { 'Last-Event-ID': String(before.id) },
  });
  const reading = readEvents(response, 4);
  harness.boilerhouse.activity.record({ type: 'pool.warning', message: 'live' });
  const events = await reading;
  expect(events.map((event) => event.data.message)).toEqual(['missed 1', 'missed 2', 'missed 3', 'live']);
  const ids = events.map((event) => event.data.id);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);
});

test('a Last-Event-ID that is not an id is refused', async () => {
  const response = await api.request('/api/v1/events/stream', { headers: { 'Last-Event-ID': 'yesterday' } });
  expect(response.status).toBe(400);
  expect((await response.json()).error.message).toBe(
    'header Last-Event-ID must be an event id, got "yesterday"',
  );
});
