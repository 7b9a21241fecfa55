/**
 * Commands the host answers itself, without an agent run. A command may follow the trigger (`@Andy /clear`).
 * Any group: `/clear` (start a fresh session, keeping memory files). Main group only:
 * - `/groups` (registered groups and other known chats), `/unregister <chat id>`;
 * - `/usage` (model usage today and this month, and the limits), `/failed` (messages given up on);
 * - `/senders <chat id> [everyone|ignore|hold]` (who may talk there: everyone, listed senders with
 *   others ignored, or listed senders with others held), `/allow <chat id> <sender id>`,
 *   `/disallow <chat id> <sender id>`;
 * - `/held` (messages waiting for approval), `/approve <id>`, `/deny <id>`;
 * - `/mcp ...` (each group's MCP servers, mcp/commands.ts), `/gmail ...` (Gmail's connection, mcp/gmail-command.ts).
 */
export type SendersMode = 'everyone' | 'ignore' | 'hold';

export type Command =
  | { name: 'clear' }
  | { name: 'groups' }
  | { name: 'unregister'; jid: string }
  | { name: 'usage' }
  | { name: 'failed' }
  | { name: 'senders'; jid: string; mode: SendersMode | undefined }
  | { name: 'allow' | 'disallow'; jid: string; sender: string }
  | { name: 'held' }
  | { name: 'approve' | 'deny'; id: number | undefined }
  | { name: 'mcp' | 'gmail'; args: string[] };

export const MAIN_ONLY: ReadonlySet<Command['name']> = new Set([
  'groups',
  'unregister',
  'usage',
  'failed',
  'senders',
  'allow',
  'disallow',
  'held',
  'approve',
  'deny',
  'mcp',
  'gmail',
]);

const MODES: readonly string[] = ['everyone', 'ignore', 'hold'];

/** The command a message is, or undefined for an ordinary message; unknown `/words` are ordinary. */
export function parseCommand(text: string, trigger: string): Command | undefined {
  let rest = text.trim();
  if (rest.toLowerCase().startsWith(trigger.toLowerCase())) rest = rest.slice(trigger.length).trim();
  const [word, ...args] = rest.split(/\s+/);
  const alone = (command: Command) => (args.length === 0 ? command : undefined);
  switch (word?.toLowerCase()) {
    case '/clear':
      return alone({ name: 'clear' });
    case '/groups':
      return alone({ name: 'groups' });
    case '/usage':
      return alone({ name: 'usage' });
    case '/failed':
      return alone({ name: 'failed' });
    case '/held':
      return alone({ name: 'held' });
    case '/unregister':
      return { name: 'unregister', jid: args.join(' ') };
    case '/senders': {
      const mode = args[1]?.toLowerCase();
      // A wrong mode is still the command: its answer says how to use it.
      if (args.length > 2 || (mode !== undefined && !MODES.includes(mode)))
        return { name: 'senders', jid: '', mode: undefined };
      return { name: 'senders', jid: args[0] ?? '', mode: mode as SendersMode | undefined };
    }
    case '/allow':
    case '/disallow':
      return {
        name: word.toLowerCase() === '/allow' ? 'allow' : 'disallow',
        jid: args[0] ?? '',
        sender: args.slice(1).join(' '),
      };
    case '/approve':
    case '/deny': {
      const id = args.length === 1 && /^\d+$/.test(args[0] ?? '') ? Number(args[0]) : undefined;
      return { name: word.toLowerCase() === '/approve' ? 'approve' : 'deny', id };
    }
    case '/mcp':
    case '/gmail':
      return {
        name: word.toLowerCase() === '/mcp' ? 'mcp' : 'gmail',
        args: args.filter((arg) => arg !== ''),
      };
    default:
      return undefined;
  }
}
