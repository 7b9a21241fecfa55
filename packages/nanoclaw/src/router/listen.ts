/**
 * What the host does with what channels report: each message received is stored and its group's run
 * queued (router/inbound.ts), and each status change logged and shown on the open web pages.
 */
import type { Channel } from '../channels/channel.ts';
import type { WebChannel } from '../channels/web.ts';
import { MAIN_FOLDER } from '../layout.ts';
import { heldNotice } from './command-handler.ts';
import type { InboundDeps } from './inbound.ts';
import { receiveMessage } from './inbound.ts';
import type { Outbound } from './outbound.ts';

export interface ListenDeps extends Omit<InboundDeps, 'heldFirst'> {
  outbound: Outbound;
  web: WebChannel | undefined;
}

export function listenToChannels(channels: Channel[], deps: ListenDeps): void {
  const { groups, outbound, log } = deps;
  const inbound: InboundDeps = {
    chats: deps.chats,
    groups,
    messages: deps.messages,
    held: deps.held,
    enqueue: deps.enqueue,
    newChat: deps.newChat,
    heldFirst: (message, group) => {
      log.info(
        { chat: message.chatJid, group: group.folder, held: message.heldId },
        'message held for approval',
      );
      const mainJid = groups.jidOf(MAIN_FOLDER);
      if (mainJid === undefined) return;
      outbound.deliver(mainJid, heldNotice(message, groups), null).catch((error: unknown) => {
        log.warn({ error }, 'could not tell the main chat of a held message (it is listed by /held)');
      });
    },
    now: deps.now,
    files: deps.files,
    log,
  };
  for (const channel of channels) {
    channel.onMessage((message) => receiveMessage(inbound, channel.name, message));
    channel.onStatus((status) => {
      log.info({ channel: channel.name, state: status.state, detail: status.detail }, 'channel status');
      deps.web?.broadcastStatus().catch(() => undefined);
    });
  }
}
