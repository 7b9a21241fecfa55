/**
 * Messages from channels: every chat is noted (name and time, so main can see what it may register);
 * messages of registered chats from senders their policy lets through (senders.ts) are stored, with their
 * files kept in the group's folder first, and their group is queued; messages of unknown senders are
 * dropped or held for main (their files are not fetched: no agent may see them). Nothing else happens
 * here: the queue decides when a run starts, the message run what it answers.
 */
import type { ChannelName, IncomingMessage } from '../channels/channel.ts';
import type { GroupFiles } from '../files/group-files.ts';
import { keepFiles, notKeptNotes, withNotes } from '../files/keep.ts';
import type { Logger } from '../log.ts';
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
  files: GroupFiles;
  log: Logger;
}

/** Settles once the message is stored (or dropped, or held); throws when its files could not be kept. */
export async function receiveMessage(
  deps: InboundDeps,
  channel: ChannelName,
  message: IncomingMessage,
): Promise<void> {
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
  const files = message.files ?? [];
  if (verdict === 'hold') {
    const waiting = deps.held.ofSender(message.chatJid, message.sender).length;
    const text = withNotes(inbound.text, notKeptNotes(files, 'the message was held for approval'));
    const held = deps.held.hold({ ...inbound, text }, deps.now());
    if (held !== undefined && waiting === 0) deps.heldFirst(held, group);
    return;
  }
  // A message seen before (a channel's redelivery) keeps what was stored then, files included.
  if (deps.messages.get(message.chatJid, message.id) !== undefined) return;
  const kept = await keepFiles(deps.files, group.folder, files, deps.log);
  const stored = deps.messages.storeInbound({
    ...inbound,
    text: withNotes(inbound.text, kept.notes),
    attachments: kept.attachments,
  });
  if (stored !== undefined) deps.enqueue(group.folder);
}
