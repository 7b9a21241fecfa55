/**
 * The host's stores, opened on its home: the database's tables, the registered groups, the router's
 * cursors. Opening also settles what the last run left: the web chat made the main group on a first start,
 * cursors repaired from stored replies, task runs cut off by the last shutdown logged as interrupted.
 */
import type { Config } from '../config.ts';
import { type Layout, MAIN_FOLDER, prepareGroupDirs } from '../layout.ts';
import type { Logger } from '../log.ts';
import { ChatStore } from './chats.ts';
import { type Database, openDatabase } from './database.ts';
import { GroupRegistry } from './groups.ts';
import { HeldMessages } from './held-messages.ts';
import { LimitNotices } from './limit-notices.ts';
import { MessageStore } from './messages.ts';
import { RouterState } from './router-state.ts';
import { RunFailures } from './run-failures.ts';
import { TaskRunStore } from './task-runs.ts';
import { TaskStore } from './tasks.ts';
import { UsageStore } from './usage.ts';

export interface HostStores {
  db: Database;
  messages: MessageStore;
  chats: ChatStore;
  tasks: TaskStore;
  taskRuns: TaskRunStore;
  usage: UsageStore;
  failures: RunFailures;
  held: HeldMessages;
  notices: LimitNotices;
  groups: GroupRegistry;
  state: RouterState;
}

export function openStores(config: Config, layout: Layout, log: Logger, now: () => number): HostStores {
  const db = openDatabase(layout.databasePath);
  const stores: HostStores = {
    db,
    messages: new MessageStore(db),
    chats: new ChatStore(db),
    tasks: new TaskStore(db),
    taskRuns: new TaskRunStore(db),
    usage: new UsageStore(db),
    failures: new RunFailures(db),
    held: new HeldMessages(db),
    notices: new LimitNotices(db),
    groups: new GroupRegistry(layout.registeredGroupsPath),
    state: new RouterState(layout.statePath),
  };
  const { groups, state, messages, taskRuns } = stores;
  if (config.webChat && groups.jidOf(MAIN_FOLDER) === undefined && groups.get('web:main') === undefined) {
    groups.register('web:main', {
      name: 'Main',
      folder: MAIN_FOLDER,
      addedAt: new Date(now()).toISOString(),
    });
    log.info({ chat: 'web:main' }, 'first start: the web chat "main" is the main group');
  }
  for (const [jid, group] of groups.entries()) {
    prepareGroupDirs(layout, group.folder);
    // A reply stored just before a crash proves its messages were answered, even if the cursor write was lost.
    state.advanceCursor(jid, messages.repliedUpTo(jid));
  }
  const interrupted = taskRuns.markInterrupted();
  if (interrupted > 0)
    log.warn({ runs: interrupted }, 'task runs cut off by the last shutdown are logged as interrupted');
  return stores;
}
