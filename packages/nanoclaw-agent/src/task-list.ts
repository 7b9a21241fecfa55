/**
 * The tasks the host lets this group see, from `/workspace/ipc/current_tasks.json` (AGENT-PROTOCOL.md,
 * "Reads"), formatted for the model.
 */
import { readJsonFile } from './ipc-files.ts';

export interface TaskRun {
  run_at: string;
  duration_ms: number;
  status: string;
  result?: string | null;
  error?: string | null;
}

export interface VisibleTask {
  id: string;
  groupFolder: string;
  chatJid: string;
  prompt: string;
  schedule_type: string;
  schedule_value: string;
  context_mode?: string;
  status: string;
  next_run: string | null;
  last_run: string | null;
  last_result: string | null;
  recent_runs?: TaskRun[];
}

/** The visible tasks; none when the host has not written the file yet. */
export async function readVisibleTasks(path: string): Promise<VisibleTask[]> {
  const tasks = await readJsonFile(path);
  if (tasks === undefined) return [];
  if (!Array.isArray(tasks)) throw new Error(`${path}: expected a JSON array of tasks`);
  return tasks as VisibleTask[];
}

function shorten(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

/** One line per task; the group is named too when the list spans groups (main sees every group's). */
export function formatTaskList(tasks: VisibleTask[]): string {
  if (tasks.length === 0) return 'No scheduled tasks.';
  const groups = new Set(tasks.map((task) => task.groupFolder));
  const lines = tasks.map((task) => {
    const where = groups.size > 1 ? ` group=${task.groupFolder}` : '';
    return `- ${task.id} [${task.status}] ${task.schedule_type} ${task.schedule_value}, next run ${task.next_run ?? 'none'}${where}: ${shorten(task.prompt, 80)}`;
  });
  return `Scheduled tasks:\n${lines.join('\n')}`;
}

export function formatTaskDetails(task: VisibleTask): string {
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
