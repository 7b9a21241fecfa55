/**
 * Issue 17, a channel down: the queue and the message run with the real stores, a chat whose channel
 * refuses every send. The answer is tried a bounded number of times (each retry counted, each after its
 * back-off), then the messages are recorded as failed and never tried again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, ChannelStatus } from '../channels/channel.ts';
import { loadConfig } from '../config.ts';
import { GroupFiles } from '../files/group-files.ts';
import { Layout, MAIN_FOLDER, prepareHome } from '../layout.ts';
import { createLogger } from '../log.ts';
import { hostMcp } from '../mcp/host-mcp.ts';
import { Outbound } from '../router/outbound.ts';
import { ChatStore } from '../store/chats.ts';
import { openDatabase } from '../store/database.ts';
import { GroupRegistry } from '../store/groups.ts';
import { HeldMessages } from '../store/held-messages.ts';
import { LimitNotices } from '../store/limit-notices.ts';
import { MessageStore } from '../store/messages.ts';
import { RouterState } from '../store/router-state.ts';
import { RunFailures } from '../store/run-failures.ts';
import { UsageStore } from '../store/usage.ts';
import { tempHome } from '../testing/temp-home.ts';
import { dayOf } from '../usage/periods.ts';
import { GroupQueue } from './group-queue.ts';
import { runGroupMessages } from './message-run.ts';

/** A web-like channel whose every send fails, as a channel that is down does after its own retries. */
class DownChannel implements Channel {
  readonly name = 'web' as const;
  readonly prefixesReplies = false;
  sends = 0;
  ownsJid = (jid: string) => jid.startsWith('web:');
  connect = async () => undefined;
  onMessage = () => undefined;
  sendMessage = async () => {
    this.sends++;
    throw new Error('channel down (scripted)');
  };
  sendFile = this.sendMessage;
  setTyping = async () => undefined;
  disconnect = async () => undefined;
  status = (): ChannelStatus => ({ state: 'disconnected' });
  onStatus = () => undefined;
}

let home: Awaited<ReturnType<typeof tempHome>>;
beforeAll(async () => {
  home = await tempHome('nanoclaw-undeliverable-');
});
afterAll(async () => {
  await home?.remove();
});

describe('a reply that cannot be delivered', () => {
  it('is tried NANOCLAW_MAX_ATTEMPTS times with back-off, each retry counted, then recorded as failed', async () => {
    // No model: the answer is the host's own "no model" reply, so no agent is involved.
    const config = loadConfig({
      NANOCLAW_HOME: home.path,
      NANOCLAW_RETRY_BASE_MS: '5',
      NANOCLAW_MAX_ATTEMPTS: '4',
      TZ: 'UTC',
    });
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line), level: 'debug', format: 'json' });
    const layout = new Layout(home.path);
    prepareHome(layout, config.assistantName);
    const db = openDatabase(':memory:');
    const messages = new MessageStore(db);
    const groups = new GroupRegistry(layout.registeredGroupsPath);
    groups.register('web:main', { name: 'Main', folder: MAIN_FOLDER, addedAt: new Date().toISOString() });
    const state = new RouterState(layout.statePath);
    const failures = new RunFailures(db);
    const usage = new UsageStore(db);
    const channel = new DownChannel();
    const files = new GroupFiles(layout);
    const outbound = new Outbound({
      channels: [channel],
      messages,
      state,
      assistantName: 'Andy',
      files,
      log,
    });
    const now = () => Date.now();
    const report = { usage, failures, config, now };
    const mcp = hostMcp({ config, layout, db, groups, log, now });
    const queue: GroupQueue = new GroupQueue(
      {
        runMessages: (folder, attempt, signals) =>
          runGroupMessages(
            {
              config,
              layout,
              log,
              messages,
              groups,
              state,
              outbound,
              usage,
              notices: new LimitNotices(db),
              failures,
              now,
              launch: () => Promise.reject(new Error('no agent in this test')),
              commands: {
                groups,
                chats: new ChatStore(db),
                state,
                messages,
                held: new HeldMessages(db),
                report,
                closeGroup: () => undefined,
                enqueue: () => undefined,
                now,
                mcp: mcp.commands,
                gmail: mcp.gmail,
              },
            },
            folder,
            attempt,
            signals,
          ),
        runTask: async () => undefined,
      },
      {
        maxConcurrent: 1,
        retryBaseMs: config.retry.baseMs,
        maxAttempts: config.retry.maxAttempts,
        retried: (folder) => failures.countRetry(dayOf(now(), config.timezone), folder),
        log,
      },
    );
    const stored = messages.storeInbound({
      id: 'm1',
      chatJid: 'web:main',
      sender: 'web:Tester',
      senderName: 'Tester',
      text: 'hello?',
      timestamp: Date.now(),
    });
    queue.enqueueMessages(MAIN_FOLDER);
    while (failures.failedCount() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await queue.stop();

    expect(channel.sends).toBe(4);
    expect(failures.retriesSince(dayOf(now(), 'UTC'))).toBe(3);
    const [failed] = failures.recentFailed(10);
    expect(failed).toMatchObject({ chatJid: 'web:main', group: 'main', messages: 1, attempts: 4 });
    expect(failed?.reason).toContain('channel down (scripted)');
    // Left behind the cursor: no later run picks these messages up again.
    expect(state.cursor('web:main')).toBe(stored?.receivedAt);
    const records = lines.map((line) => JSON.parse(line) as { message: string; retryInMs?: number });
    // Each retry waited its back-off (5, 10, 20 ms, ±10%): none in a tight loop.
    expect(
      records.filter((record) => record.message === 'agent run failed, will retry').map((r) => r.retryInMs),
    ).toEqual([
      expect.toSatisfy((ms: number) => ms >= 4),
      expect.toSatisfy((ms: number) => ms >= 9),
      expect.toSatisfy((ms: number) => ms >= 18),
    ]);
    expect(records.some((record) => record.message.startsWith('giving up on these messages'))).toBe(true);
    db.close();
  });
});
