/**
 * Writing the agent's results to stdout, one frame each (frames.ts). Anything else the process prints
 * goes to stderr, so a frame is never interleaved with log text.
 */
import {
  type AgentOutput,
  formatFrame,
  OUTPUT_END,
  OUTPUT_START,
  type ParsedOutput,
  parseOutput,
} from './frames.ts';

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
 * Reads the complete frames out of stdout text, in order, checked as the host checks them; lines outside
 * frames are ignored. A frame the host would not take is reported by its line number rather than skipped.
 */
export function parseFrames(text: string): ParsedOutput[] {
  const outputs: ParsedOutput[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (lines[index] !== OUTPUT_START) continue;
    const payload = lines[index + 1];
    if (payload === undefined || lines[index + 2] !== OUTPUT_END) continue;
    const parsed = parseOutput(payload);
    if (typeof parsed === 'string') throw new Error(`output frame at line ${index + 2} is bad: ${parsed}`);
    outputs.push(parsed);
    index += 2;
  }
  return outputs;
}
