/**
 * Commands the host answers itself, without an agent run. Any group: `/clear` (start a fresh session,
 * keeping memory files). Main group only: `/groups` (registered groups and other known chats),
 * `/unregister <chat id>`. A command may follow the trigger (`@Andy /clear`).
 */
export type Command = { name: 'clear' } | { name: 'groups' } | { name: 'unregister'; jid: string };

export const MAIN_ONLY: ReadonlySet<Command['name']> = new Set(['groups', 'unregister']);

/** The command a message is, or undefined for an ordinary message; unknown `/words` are ordinary. */
export function parseCommand(text: string, trigger: string): Command | undefined {
  let rest = text.trim();
  if (rest.toLowerCase().startsWith(trigger.toLowerCase())) rest = rest.slice(trigger.length).trim();
  const [word, ...args] = rest.split(/\s+/);
  switch (word?.toLowerCase()) {
    case '/clear':
      return args.length === 0 ? { name: 'clear' } : undefined;
    case '/groups':
      return args.length === 0 ? { name: 'groups' } : undefined;
    case '/unregister':
      return { name: 'unregister', jid: args.join(' ') };
    default:
      return undefined;
  }
}
