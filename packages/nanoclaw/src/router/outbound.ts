/**
 * Sends the assistant's words to a chat through the channel that owns it, then records them. A reply to
 * messages carries how far it answered (`answersUpTo`): the chat's cursor moves only once the reply is
 * sent, and the stored reply lets a restart repair a cursor write that a crash cut off.
 */
import type { Channel } from '../channels/channel.ts';
import type { Logger } from '../log.ts';
import type { MessageStore } from '../store/messages.ts';
import type { RouterState } from '../store/router-state.ts';

export class NoChannelError extends Error {}

export class Outbound {
  readonly #channels: Channel[];
  readonly #messages: MessageStore;
  readonly #state: RouterState;
  readonly #assistantName: string;
  readonly #log: Logger;

  constructor(deps: {
    channels: Channel[];
    messages: MessageStore;
    state: RouterState;
    assistantName: string;
    log: Logger;
  }) {
    this.#channels = deps.channels;
    this.#messages = deps.messages;
    this.#state = deps.state;
    this.#assistantName = deps.assistantName;
    this.#log = deps.log;
  }

  channelFor(jid: string): Channel | undefined {
    return this.#channels.find((channel) => channel.ownsJid(jid));
  }

  async deliver(chatJid: string, text: string, answersUpTo: number | null): Promise<void> {
    const channel = this.channelFor(chatJid);
    if (channel === undefined) throw new NoChannelError(`no channel serves chat ${chatJid}`);
    const shown = channel.prefixesReplies ? `${this.#assistantName}: ${text}` : text;
    await channel.sendMessage(chatJid, shown);
    this.#messages.storeReply(chatJid, this.#assistantName, text, answersUpTo);
    if (answersUpTo !== null) this.#state.advanceCursor(chatJid, answersUpTo);
  }

  /** Best effort: a typing indicator that fails is logged, never fatal. */
  setTyping(chatJid: string, typing: boolean): void {
    const channel = this.channelFor(chatJid);
    channel?.setTyping(chatJid, typing).catch((error: unknown) => {
      this.#log.debug({ chat: chatJid, error }, 'typing indicator failed');
    });
  }
}
