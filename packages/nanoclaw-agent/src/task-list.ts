/** The tasks the host lets this group see, from `current_tasks.json` (ipc-snapshots.ts), formatted for the model. */
import { readJsonFile } from './ipc-files.ts';
import type { TaskSnapshot } from './ipc-snapshots.ts';

/** The visible tasks; none when the host has not written the file yet. */
export async function readVisibleTasks(path: string): Promise<TaskSnapshot[]> {
  const tasks = await readJsonFile(path);
  if (tasks === undefined) return [];
  if (!Array.isArray(tasks)) throw new Error(`${path}: expected a JSON array of tasks`);
  return tasks as TaskSnapshot[];
}

function shorten(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

/** One line per task; the group is named too when the list spans groups (main sees every group's). */
export function formatTaskList(tasks: TaskSnapshot[]): string {
  if (tasks.length === 0) return 'No scheduled tasks.';
  const groups = new Set(tasks.map((task) => task.groupFolder));
  const lines = tasks.map((task) => {
    const where = groups.size > 1 ? ` group=${task.groupFolder}` : '';
    return `- ${task.id} [${task.status}] ${task.schedule_type} ${task.schedule_value}, next run ${task.next_run ?? 'none'}${where}: ${shorten(task.prompt, 80)}`;
  });
  return `Scheduled tasks:\n${lines.join('\n')}`;
}

export function formatTaskDetails(task: TaskSnapshot): string {
  const lines = [
    `Task ${task.id}`,
    `status: ${task.status}`,
    `group: ${task.groupFolder} (chat ${task.chatJid})`,
    `schedule: ${task.schedule_type} ${task.schedule_value}`,
    `context: ${task.context_mode ?? 'isolated'}`,
    `next run: ${task.next_run ?? 'none'}`,
    `last run: ${task.last_run ?? 'never'}`,
    `last result: ${task.last_result ?? 'none'}`,
    `prompt: ${task.prompt}`,
  ];
  const runs = task.recent_runs ?? [];
  if (runs.length > 0) {
    lines.push('recent runs (newest first):');
    for (const run of runs) {
      const outcome = run.status === 'success' ? shorten(run.result ?? '', 120) : (run.error ?? run.status);
      lines.push(`- ${run.run_at} ${run.status} in ${run.duration_ms} ms: ${outcome}`);
    }
  }
  return lines.join('\n');
}
