/**
 * Sends the assistant's words (or a file) to a chat through the channel that owns it, then records them.
 * A reply to messages carries how far it answered (`answersUpTo`): the chat's cursor moves only once the
 * reply is sent, and the stored reply lets a restart repair a cursor write that a crash cut off.
 */
import type { Channel } from '../channels/channel.ts';
import type { OutgoingFile } from '../files/attachment.ts';
import type { GroupFiles } from '../files/group-files.ts';
import type { Logger } from '../log.ts';
import type { MessageStore } from '../store/messages.ts';
import type { RouterState } from '../store/router-state.ts';

export class NoChannelError extends Error {}

export class Outbound {
  readonly #channels: Channel[];
  readonly #messages: MessageStore;
  readonly #state: RouterState;
  readonly #assistantName: string;
  readonly #files: GroupFiles;
  readonly #log: Logger;

  constructor(deps: {
    channels: Channel[];
    messages: MessageStore;
    state: RouterState;
    assistantName: string;
    files: GroupFiles;
    log: Logger;
  }) {
    this.#files = deps.files;
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

  /**
   * Sends a file with an optional caption, then keeps a copy in group `folder`'s files (the chat shows it
   * from there) and stores the reply that carries it.
   */
  async deliverFile(
    chatJid: string,
    file: OutgoingFile,
    caption: string | undefined,
    folder: string,
  ): Promise<void> {
    const channel = this.channelFor(chatJid);
    if (channel === undefined) throw new NoChannelError(`no channel serves chat ${chatJid}`);
    const shown = channel.prefixesReplies
      ? `${this.#assistantName}${caption === undefined ? '' : `: ${caption}`}`
      : caption;
    await channel.sendFile(chatJid, file, shown);
    const kept = this.#files.save(folder, file.name, file.bytes);
    this.#messages.storeReply(chatJid, this.#assistantName, caption ?? '', null, [kept]);
  }

  /** Best effort: a typing indicator that fails is logged, never fatal. */
  setTyping(chatJid: string, typing: boolean): void {
    const channel = this.channelFor(chatJid);
    channel?.setTyping(chatJid, typing).catch((error: unknown) => {
      this.#log.debug({ chat: chatJid, error }, 'typing indicator failed');
    });
  }
}
