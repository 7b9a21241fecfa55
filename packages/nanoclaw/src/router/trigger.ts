/**
 * Which messages start an agent run: in a group that needs a trigger, a message that begins with it
 * (`@Andy`, any case, followed by a non-word character or the end); the main group needs none.
 */
import { isMainGroup, type RegisteredGroup } from '../store/groups.ts';

export function triggerOf(group: RegisteredGroup, assistantName: string): string {
  return group.trigger ?? `@${assistantName}`;
}

export function needsTrigger(group: RegisteredGroup): boolean {
  return !isMainGroup(group) && group.requiresTrigger !== false;
}

export function startsWithTrigger(text: string, trigger: string): boolean {
  const escaped = trigger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Whether any of these texts starts a run in this group. */
export function isTriggered(texts: string[], group: RegisteredGroup, assistantName: string): boolean {
  if (!needsTrigger(group)) return texts.length > 0;
  const trigger = triggerOf(group, assistantName);
  return texts.some((text) => startsWithTrigger(text, trigger));
}
