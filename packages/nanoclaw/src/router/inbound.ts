/**
 * Messages from channels: every chat is noted (name and time, so main can see what it may register);
 * messages of registered chats are stored and their group is queued. Nothing else happens here: the
 * queue decides when a run starts, the message run what it answers.
 */
import type { ChannelName, IncomingMessage } from '../channels/channel.ts';
import type { ChatStore } from '../store/chats.ts';
import type { GroupRegistry } from '../store/groups.ts';
import type { MessageStore } from '../store/messages.ts';

export interface InboundDeps {
  chats: ChatStore;
  groups: GroupRegistry;
  messages: MessageStore;
  enqueue(folder: string): void;
  /** A chat seen for the first time (main's list of chats it may register changed). */
  newChat(jid: string): void;
}

export function receiveMessage(deps: InboundDeps, channel: ChannelName, message: IncomingMessage): void {
  const isNew = deps.chats.touch({
    jid: message.chatJid,
    name: message.chatName ?? '',
    channel,
    messageAt: message.timestamp,
  });
  if (isNew) deps.newChat(message.chatJid);
  const group = deps.groups.get(message.chatJid);
  if (group === undefined) return;
  const stored = deps.messages.storeInbound({
    id: message.id,
    chatJid: message.chatJid,
    sender: message.sender,
    senderName: message.senderName,
    text: message.text,
    timestamp: message.timestamp,
  });
  if (stored !== undefined) deps.enqueue(group.folder);
}
