/**
 * The daemon's end of one control connection to a socket host: the hello, then requests answered by id,
 * and the host's refusal reports. Requests in flight when the connection drops fail with HostLostError.
 */
import { connect, type Socket } from 'node:net';
import type { TrafficReport, WakeAsk } from '../../gateway/wire.ts';
import { readFrames } from './frames.ts';
import {
  type Denied,
  encodeFrame,
  type HostHello,
  PROTOCOL_VERSION,
  parseHostMessage,
  type Requests,
  type RequestType,
} from './protocol.ts';

export class HostLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostLostError';
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class HostConnection {
  readonly hello: HostHello;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly closed: Promise<void>;
  #nextId = 1;
  #onDenied: (denial: Denied) => void = () => undefined;
  #onGateway: (message: WakeAsk | TrafficReport) => void = () => undefined;

  private constructor(socket: Socket, hello: HostHello, closed: Promise<void>) {
    this.#socket = socket;
    this.hello = hello;
    this.closed = closed;
  }

  /** Connects to the control socket and says hello; rejects (ENOENT, ECONNREFUSED, ...) when none answers. */
  static open(path: string, daemonId: string, timeoutMs = 5_000): Promise<HostConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      let connection: HostConnection | undefined;
      let markClosed: () => void = () => undefined;
      const closed = new Promise<void>((done) => {
        markClosed = done;
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HostLostError(`the socket host at ${path} did not say hello within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        reject(new HostLostError(`the socket host at ${path} hung up before its hello`));
        if (connection !== undefined)
          connection.#fail(new HostLostError('the connection to the socket host was lost'));
        markClosed();
      });
      readFrames(
        socket,
        (value) => {
          const message = parseHostMessage(value);
          if (connection === undefined) {
            if (message.type !== 'hello') throw new Error(`the socket host spoke before its hello`);
            clearTimeout(timer);
            connection = new HostConnection(socket, message, closed);
            resolve(connection);
            return;
          }
          connection.#receive(message);
        },
        (error) => {
          socket.destroy(error);
        },
      );
      socket.write(encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, daemonId }));
    });
  }

  get sameVersion(): boolean {
    return this.hello.version === PROTOCOL_VERSION;
  }

  onDenied(listener: (denial: Denied) => void): void {
    this.#onDenied = listener;
  }

  /** The gateway's wake requests and traffic reports. */
  onGateway(listener: (message: WakeAsk | TrafficReport) => void): void {
    this.#onGateway = listener;
  }

  request<T extends RequestType>(type: T, params: Requests[T]['params']): Promise<Requests[T]['result']> {
    if (this.#socket.destroyed) return Promise.reject(new HostLostError('the socket host is gone'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#socket.write(encodeFrame({ id, type, ...params } as never));
    });
  }

  /** Hangs up; the host goes on serving. */
  end(): Promise<void> {
    this.#socket.end();
    return this.closed;
  }

  #receive(message: ReturnType<typeof parseHostMessage>): void {
    if (message.type === 'denied') {
      this.#onDenied(message);
      return;
    }
    if (message.type === 'wake' || message.type === 'traffic') {
      this.#onGateway(message);
      return;
    }
    if (message.type === 'error') {
      this.#fail(new HostLostError(`the socket host refused a frame: ${message.error}`));
      this.#socket.destroy();
      return;
    }
    if (message.type !== 'reply') return;
    const pending = this.#pending.get(message.id);
    this.#pending.delete(message.id);
    if (pending === undefined) return;
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new Error(message.error));
  }

  #fail(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
