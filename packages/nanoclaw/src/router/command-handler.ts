/** Carries out a host command (commands.ts) and says what happened, for the chat. */
import { MAIN_FOLDER } from '../layout.ts';
import { type McpCommandDeps, mcpCommand } from '../mcp/commands.ts';
import type { GmailConnection } from '../mcp/gmail-command.ts';
import type { ChatStore } from '../store/chats.ts';
import {
  EVERYONE,
  type GroupRegistry,
  isMainGroup,
  type RegisteredGroup,
  type SenderPolicy,
} from '../store/groups.ts';
import type { HeldMessage, HeldMessages } from '../store/held-messages.ts';
import type { MessageStore } from '../store/messages.ts';
import type { RouterState } from '../store/router-state.ts';
import { failedText, type ReportDeps, usageText } from '../usage/report.ts';
import { type Command, MAIN_ONLY, type SendersMode } from './commands.ts';
import { describeSenders } from './senders.ts';

export interface CommandDeps {
  groups: GroupRegistry;
  chats: ChatStore;
  state: RouterState;
  messages: MessageStore;
  held: HeldMessages;
  report: ReportDeps;
  /** Asks a group's running container to finish. */
  closeGroup(folder: string): void;
  /** A group has new messages (approved ones). */
  enqueue(folder: string): void;
  now(): number;
  mcp: McpCommandDeps;
  gmail: GmailConnection;
}

export function runCommand(
  command: Command,
  group: RegisteredGroup,
  deps: CommandDeps,
): string | Promise<string> {
  if (MAIN_ONLY.has(command.name) && !isMainGroup(group)) {
    return `Only the main chat can use /${command.name}.`;
  }
  switch (command.name) {
    case 'clear': {
      const archived = deps.state.archiveSession(group.folder, new Date(deps.now()));
      return archived === undefined
        ? 'Starting fresh (there was no conversation to archive). Memory files are kept.'
        : 'Starting fresh: the conversation so far is archived. Memory files are kept.';
    }
    case 'groups':
      return describeGroups(deps);
    case 'unregister': {
      if (command.jid === '') return 'Usage: /unregister <chat id> (see /groups for the ids).';
      const target = deps.groups.get(command.jid);
      if (target === undefined) return `${command.jid} is not registered.`;
      if (target.folder === MAIN_FOLDER) return 'The main chat cannot be unregistered.';
      deps.groups.unregister(command.jid);
      deps.closeGroup(target.folder);
      return `Unregistered ${target.name} (${command.jid}). Its folder groups/${target.folder} is kept.`;
    }
    case 'usage':
      return usageText(deps.report);
    case 'failed':
      return failedText(deps.report);
    case 'senders':
      return setSenders(deps, command.jid, command.mode);
    case 'allow':
    case 'disallow':
      return changeList(deps, command.name, command.jid, command.sender);
    case 'held':
      return describeHeld(deps);
    case 'approve':
    case 'deny':
      return decideHeld(deps, command.name, command.id);
    case 'mcp':
      return mcpCommand(deps.mcp, command.args);
    case 'gmail':
      return deps.gmail.command(command.args);
  }
}

/** The group whose senders main manages, or the answer saying why there is none. */
function managed(deps: CommandDeps, jid: string, usage: string): [RegisteredGroup] | string {
  if (jid === '') return usage;
  const target = deps.groups.get(jid);
  if (target === undefined) return `${jid} is not registered (see /groups).`;
  if (isMainGroup(target)) return 'The main chat always hears everyone in it: it is the operator’s own chat.';
  return [target];
}

const SENDERS_USAGE =
  'Usage: /senders <chat id> [everyone|ignore|hold]: everyone may talk; or only senders listed with /allow, with others ignored, or held until /approve.';

function setSenders(deps: CommandDeps, jid: string, mode: SendersMode | undefined): string {
  const found = managed(deps, jid, SENDERS_USAGE);
  if (typeof found === 'string') return found;
  const [target] = found;
  if (mode === undefined) return `${target.name} (${jid}): ${describeSenders(target)}.`;
  const current = target.senders ?? EVERYONE;
  const senders: SenderPolicy =
    mode === 'everyone'
      ? { ...current, policy: 'everyone' }
      : { ...current, policy: 'list', unknown: mode === 'hold' ? 'held' : 'ignored' };
  deps.groups.setSenders(jid, senders);
  return `${target.name} (${jid}): ${describeSenders({ ...target, senders })}.`;
}

function changeList(deps: CommandDeps, change: 'allow' | 'disallow', jid: string, sender: string): string {
  const found = managed(deps, jid, `Usage: /${change} <chat id> <sender id> (/held shows sender ids).`);
  if (typeof found === 'string') return found;
  if (sender === '') return `Usage: /${change} <chat id> <sender id> (/held shows sender ids).`;
  const [target] = found;
  const current = target.senders ?? EVERYONE;
  const allowed =
    change === 'allow'
      ? [...new Set([...current.allowed, sender])]
      : current.allowed.filter((listed) => listed !== sender);
  deps.groups.setSenders(jid, { ...current, allowed });
  return `${target.name} (${jid}): ${describeSenders({ ...target, senders: { ...current, allowed } })}.`;
}

function heldLine(held: HeldMessage, groups: GroupRegistry): string {
  const chat = groups.get(held.chatJid)?.name ?? held.chatJid;
  const text = held.text.length > 200 ? `${held.text.slice(0, 200)}…` : held.text;
  return `#${held.heldId} in ${chat} (${held.chatJid}) from ${held.senderName} (${held.sender}): ${text}`;
}

/** What main is told when an unknown sender's first message is held. */
export function heldNotice(held: HeldMessage, groups: GroupRegistry): string {
  return `Held a message from someone not on the list: ${heldLine(held, groups)}\n/approve ${held.heldId} lets it through and lists the sender; /deny ${held.heldId} drops it.`;
}

function describeHeld(deps: CommandDeps): string {
  const held = deps.held.list();
  if (held.length === 0) return 'No messages are held.';
  return [
    'Held messages (/approve <id> or /deny <id>):',
    ...held.map((entry) => `- ${heldLine(entry, deps.groups)}`),
  ].join('\n');
}

/**
 * Approving lists the sender in that chat and lets every message of theirs held there through (stored
 * now, so the group's next run reads them); denying drops them.
 */
function decideHeld(deps: CommandDeps, decision: 'approve' | 'deny', id: number | undefined): string {
  if (id === undefined) return `Usage: /${decision} <id> (see /held).`;
  const held = deps.held.get(id);
  if (held === undefined) return `No held message #${id} (see /held).`;
  const all = deps.held.ofSender(held.chatJid, held.sender);
  const target = deps.groups.get(held.chatJid);
  deps.held.remove(all.map((entry) => entry.heldId));
  const count = `${all.length} message${all.length === 1 ? '' : 's'}`;
  if (decision === 'deny' || target === undefined) {
    return `Dropped ${count} from ${held.senderName} (${held.sender}). A new message from them is held again.`;
  }
  const current = target.senders ?? EVERYONE;
  deps.groups.setSenders(held.chatJid, {
    ...current,
    allowed: [...new Set([...current.allowed, held.sender])],
  });
  for (const entry of all) {
    deps.messages.storeInbound({
      id: entry.id,
      chatJid: entry.chatJid,
      sender: entry.sender,
      senderName: entry.senderName,
      text: entry.text,
      timestamp: entry.timestamp,
    });
  }
  deps.enqueue(target.folder);
  return `Approved ${held.senderName} (${held.sender}) in ${target.name}: ${count} went to the assistant, and their next ones will too.`;
}

function describeGroups(deps: CommandDeps): string {
  const registered = deps.groups
    .entries()
    .map(
      ([jid, group]) =>
        `- ${group.name}: ${jid} (folder ${group.folder}${isMainGroup(group) ? '' : `; ${describeSenders(group)}`})`,
    );
  const others = deps.chats
    .list()
    .filter((chat) => deps.groups.get(chat.jid) === undefined)
    .slice(0, 20)
    .map((chat) => `- ${chat.name || chat.jid}: ${chat.jid}`);
  return [
    'Registered groups:',
    ...registered,
    ...(others.length > 0 ? ['', 'Other chats seen (ask me to register one):', ...others] : []),
  ].join('\n');
}
