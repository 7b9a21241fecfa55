/** Carries out a host command (commands.ts) and says what happened, for the chat. */
import { MAIN_FOLDER } from '../layout.ts';
import type { ChatStore } from '../store/chats.ts';
import { type GroupRegistry, isMainGroup, type RegisteredGroup } from '../store/groups.ts';
import type { RouterState } from '../store/router-state.ts';
import { type Command, MAIN_ONLY } from './commands.ts';

export interface CommandDeps {
  groups: GroupRegistry;
  chats: ChatStore;
  state: RouterState;
  /** Asks a group's running container to finish. */
  closeGroup(folder: string): void;
  now(): number;
}

export function runCommand(command: Command, group: RegisteredGroup, deps: CommandDeps): string {
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
  }
}

function describeGroups(deps: CommandDeps): string {
  const registered = deps.groups
    .entries()
    .map(([jid, group]) => `- ${group.name}: ${jid} (folder ${group.folder})`);
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
