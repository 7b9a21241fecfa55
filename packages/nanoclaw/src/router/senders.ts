/**
 * Whether a sender's message in a registered chat reaches the assistant: under `everyone` it does; under
 * `list` only a listed sender's does, and anyone else's is ignored or held for the main chat's approval.
 */
import { EVERYONE, type RegisteredGroup } from '../store/groups.ts';

export type SenderVerdict = 'pass' | 'ignore' | 'hold';

export function senderVerdict(group: RegisteredGroup, sender: string): SenderVerdict {
  const senders = group.senders ?? EVERYONE;
  if (senders.policy === 'everyone' || senders.allowed.includes(sender)) return 'pass';
  return senders.unknown === 'held' ? 'hold' : 'ignore';
}

/** One line for the main chat: who may talk in this group. */
export function describeSenders(group: RegisteredGroup): string {
  const senders = group.senders ?? EVERYONE;
  const listed = senders.allowed.length === 0 ? 'nobody listed' : `listed: ${senders.allowed.join(', ')}`;
  if (senders.policy === 'everyone') return `everyone may talk (${listed})`;
  return `only listed senders may talk, others are ${senders.unknown} (${listed})`;
}
