/**
 * Messages from channels: every chat is noted (name and time, so main can see what it may register);
 * messages of registered chats from senders their policy lets through (senders.ts) are stored and their
 * group is queued; messages of unknown senders are dropped or held for main. Nothing else happens here:
 * the queue decides when a run starts, the message run what it answers.
 */
import type { ChannelName, IncomingMessage } from '../channels/channel.ts';
import type { ChatStore } from '../store/chats.ts';
import type { GroupRegistry, RegisteredGroup } from '../store/groups.ts';
import type { HeldMessage, HeldMessages } from '../store/held-messages.ts';
import type { MessageStore } from '../store/messages.ts';
import { senderVerdict } from './senders.ts';

export interface InboundDeps {
  chats: ChatStore;
  groups: GroupRegistry;
  messages: MessageStore;
  held: HeldMessages;
  enqueue(folder: string): void;
  /** A chat seen for the first time (main's list of chats it may register changed). */
  newChat(jid: string): void;
  /** An unknown sender's first message waiting for main's approval (later ones wait quietly). */
  heldFirst(message: HeldMessage, group: RegisteredGroup): void;
  now(): number;
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
  const inbound = {
    id: message.id,
    chatJid: message.chatJid,
    sender: message.sender,
    senderName: message.senderName,
    text: message.text,
    timestamp: message.timestamp,
  };
  const verdict = senderVerdict(group, message.sender);
  if (verdict === 'ignore') return;
  if (verdict === 'hold') {
    const waiting = deps.held.ofSender(message.chatJid, message.sender).length;
    const held = deps.held.hold(inbound, deps.now());
    if (held !== undefined && waiting === 0) deps.heldFirst(held, group);
    return;
  }
  const stored = deps.messages.storeInbound(inbound);
  if (stored !== undefined) deps.enqueue(group.folder);
}
