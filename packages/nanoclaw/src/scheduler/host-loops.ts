/**
 * The two sources of work besides the channels: the scheduler, which queues due tasks, and the IPC
 * watcher, which applies what agents ask of the host (messages, files, tasks, groups). A change to tasks
 * from either side rewrites the groups' snapshots and re-aims the scheduler (`changed`).
 */
import type { Config } from '../config.ts';
import type { GroupFiles } from '../files/group-files.ts';
import { ipcFileHandler } from '../ipc/handle.ts';
import type { Snapshots } from '../ipc/snapshots.ts';
import { IpcWatcher } from '../ipc/watcher.ts';
import type { Layout } from '../layout.ts';
import type { Logger } from '../log.ts';
import type { GroupQueue } from '../queue/group-queue.ts';
import type { Outbound } from '../router/outbound.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { TaskStore } from '../store/tasks.ts';
import { Scheduler } from './scheduler.ts';
import { WakeFile } from './wake-file.ts';

export interface HostLoopsDeps {
  config: Config;
  layout: Layout;
  tasks: TaskStore;
  groups: GroupRegistry;
  files: GroupFiles;
  snapshots: Snapshots;
  outbound: Outbound;
  queue: GroupQueue;
  now(): number;
  log: Logger;
}

export interface HostLoops {
  /** Tasks changed: rewrite every group's snapshots and re-aim the scheduler. */
  changed(): void;
  /** Makes sure the group's IPC directories are watched (before each run). */
  watchGroup(folder: string): void;
  /** Writes the snapshots, then starts watching and scheduling. */
  start(): void;
  stop(): Promise<void>;
}

export function hostLoops(deps: HostLoopsDeps): HostLoops {
  const { config, layout, snapshots, outbound, queue, now, log } = deps;
  const scheduler = new Scheduler({
    tasks: deps.tasks,
    enqueue: (folder, taskId) => queue.enqueueTask(folder, taskId),
    isQueued: (taskId) => queue.isTaskQueued(taskId),
    queuedTaskIds: () => queue.queuedTaskIds(),
    now,
    wakeFile: new WakeFile(config.wakeFile, log),
    log,
  });
  const changed = () => {
    snapshots.writeAll();
    scheduler.kick();
  };
  const watcher = new IpcWatcher(
    layout,
    ipcFileHandler({
      layout,
      timezone: config.timezone,
      tasks: deps.tasks,
      groups: deps.groups,
      deliver: (jid, text) => outbound.deliver(jid, text, null),
      deliverFile: (jid, file, caption, folder) => outbound.deliverFile(jid, file, caption, folder),
      files: deps.files,
      changed,
      now,
      log,
    }),
    log,
  );
  return {
    changed,
    watchGroup: (folder) => watcher.watchGroup(folder),
    start: () => {
      snapshots.writeAll();
      watcher.start();
      scheduler.start();
    },
    stop: async () => {
      scheduler.stop();
      await watcher.stop();
    },
  };
}
