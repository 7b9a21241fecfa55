/**
 * The agent's results on stdout, one framed JSON object each (AGENT-PROTOCOL.md, "Output"). Anything else
 * the process prints goes to stderr, so a frame is never interleaved with log text.
 */

export const OUTPUT_START = '---NANOCLAW_OUTPUT_START---';
export const OUTPUT_END = '---NANOCLAW_OUTPUT_END---';

export type AgentOutput =
  | { status: 'success'; result: string | null; newSessionId: string }
  | { status: 'error'; result: null; error: string; newSessionId: string | null };

/** The three lines of one frame. JSON.stringify never emits a raw newline, so the payload is one line. */
export function formatFrame(output: AgentOutput): string {
  return `${OUTPUT_START}\n${JSON.stringify(output)}\n${OUTPUT_END}\n`;
}

/** Writes a frame and resolves once stdout has taken it (so an exit right after loses nothing). */
export function writeFrame(
  output: AgentOutput,
  stream: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(formatFrame(output), (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Reads the complete frames out of stdout text, in order; lines outside frames are ignored. A frame whose
 * JSON does not parse is reported by its line number rather than skipped.
 */
export function parseFrames(text: string): AgentOutput[] {
  const outputs: AgentOutput[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (lines[index] !== OUTPUT_START) continue;
    const payload = lines[index + 1];
    if (payload === undefined || lines[index + 2] !== OUTPUT_END) continue;
    try {
      outputs.push(JSON.parse(payload) as AgentOutput);
    } catch (error) {
      throw new Error(`output frame at line ${index + 2} is not JSON: ${(error as Error).message}`);
    }
    index += 2;
  }
  return outputs;
}
