/**
 * Reads a workload's wake file (`pool.wake.at_file`) from an instance's state volume. The tenant writes
 * it, so it is an attacker's file: opened beneath the volume one segment at a time without following a
 * link (state/beneath.ts), refused unless it is a regular file (a FIFO is opened non-blocking, then
 * refused), and read only up to MAX_BYTES. Only "not there" means no wake; anything else is refused
 * with its reason, for an event that says so.
 */
import { Beneath, isNotFound } from '../state/beneath.ts';

/** An RFC 3339 time with room for spaces and a newline around it; anything longer is not one. */
export const MAX_BYTES = 256;

export type WakeFile = { kind: 'absent' } | { kind: 'at'; at: number } | { kind: 'refused'; reason: string };

export async function readWakeFile(stateDir: string, relative: string): Promise<WakeFile> {
  let text: string;
  try {
    text = await readBounded(stateDir, relative);
  } catch (error) {
    if (isNotFound(error)) return { kind: 'absent' };
    return { kind: 'refused', reason: (error as Error).message };
  }
  const at = parseRfc3339(text.trim());
  if (at === undefined) {
    return { kind: 'refused', reason: `${relative}: is not an RFC 3339 time (${describe(text)})` };
  }
  return { kind: 'at', at };
}

class TooLargeError extends Error {}

async function readBounded(stateDir: string, relative: string): Promise<string> {
  const beneath = await Beneath.open(stateDir);
  try {
    const { handle, stats } = await beneath.openFile(relative);
    try {
      if (stats.size > BigInt(MAX_BYTES)) {
        throw new TooLargeError(`${relative}: is ${stats.size} bytes, more than ${MAX_BYTES}; not read`);
      }
      // One byte more than allowed: a file that grew since fstat is caught here too.
      const buffer = Buffer.alloc(MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_BYTES)
        throw new TooLargeError(`${relative}: grew past ${MAX_BYTES} bytes; not read`);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } finally {
    await beneath.close();
  }
}

const RFC_3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch, or undefined unless `text` is one valid RFC 3339 date-time. */
export function parseRfc3339(text: string): number | undefined {
  const match = RFC_3339.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const offsetHours = match[9] === undefined ? 0 : Number(match[9]);
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10]);
  // Date.parse rolls 2024-02-30 over into March: check the fields ourselves.
  const daysInMonth = new Date(Date.UTC(year as number, month as number, 0)).getUTCDate();
  if (
    (month as number) < 1 ||
    (month as number) > 12 ||
    (day as number) < 1 ||
    (day as number) > daysInMonth ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return undefined;
  }
  const at = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(at) ? undefined : at;
}

/** A short, printable view of what the file held, for the event. */
function describe(text: string): string {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
  return text.length === 0 ? 'empty' : shown;
}
