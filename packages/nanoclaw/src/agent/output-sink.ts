/**
 * A run's output: counted against the size limit, stdout parsed for result frames, everything else
 * written to the run's log file.
 */
import { FrameParser, type ParsedOutput } from '@boilerhouse/nanoclaw-agent/frames';

export class OutputSink {
  readonly #limit: number;
  readonly #logFile: NodeJS.WritableStream;
  readonly #parser: FrameParser;
  readonly #overLimit: () => void;
  readonly #stdoutDecoder = new TextDecoder();
  readonly #stderrDecoder = new TextDecoder();
  #bytes = 0;
  #over = false;

  constructor(options: {
    limit: number;
    logFile: NodeJS.WritableStream;
    onOutput(output: ParsedOutput): void;
    overLimit(): void;
  }) {
    this.#limit = options.limit;
    this.#logFile = options.logFile;
    this.#overLimit = options.overLimit;
    this.#parser = new FrameParser({
      output: options.onOutput,
      log: (line) => this.#logFile.write(`${line}\n`),
    });
  }

  stdout(chunk: Buffer): void {
    if (this.#count(chunk)) this.#parser.push(this.#stdoutDecoder.decode(chunk, { stream: true }));
  }

  stderr(chunk: Buffer): void {
    if (this.#count(chunk)) this.#logFile.write(this.#stderrDecoder.decode(chunk, { stream: true }));
  }

  end(): void {
    if (!this.#over) this.#parser.end();
  }

  #count(chunk: Buffer): boolean {
    if (this.#over) return false;
    this.#bytes += chunk.length;
    if (this.#bytes <= this.#limit) return true;
    this.#over = true;
    this.#logFile.write(
      `\n[host] output passed ${this.#limit} bytes: the run is killed, the rest is not kept\n`,
    );
    this.#overLimit();
    return false;
  }
}
