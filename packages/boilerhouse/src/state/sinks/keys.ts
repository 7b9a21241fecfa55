/**
 * The key rules every sink enforces, so a key means the same object in a directory and in a bucket: `/`
 * separated, relative, no empty, `.` or `..` segments, no backslashes or NUL bytes. A local sink could
 * otherwise be walked out of its directory, and an S3 key that a path normalizer rewrites would alias
 * another. Segments starting with TEMP_MARK are the local sink's files being written; every sink refuses
 * them so that a key works alike in each.
 */
import { SinkError } from './sink.ts';

export const TEMP_MARK = '.sink-tmp-';

/** Throws a SinkError naming the key when it breaks the rules; `what` names it otherwise (a sink's prefix). */
export function checkKey(key: string, what = 'sink key'): void {
  const problem = keyProblem(key, false);
  if (problem) throw new SinkError(`invalid ${what} ${JSON.stringify(key)}: ${problem}`);
}

/**
 * A list prefix is a key, or the start of one: it may be empty, end with `/`, or stop mid-segment
 * (`saves/00` lists `saves/0001` and `saves/0002`).
 */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = keyProblem(prefix, true);
  if (problem) throw new SinkError(`invalid sink prefix ${JSON.stringify(prefix)}: ${problem}`);
}

function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (key === '') return 'it is empty';
  if (key.startsWith('/')) return 'it is absolute';
  if (key.includes('\\')) return 'it contains a backslash';
  if (key.includes('\0')) return 'it contains a NUL byte';
  const segments = key.split('/');
  // A prefix may end with `/` (a folder); a key may not.
  if (isPrefix && segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') return 'it has an empty segment';
    if (segment === '..' || segment === '.') return `it has a "${segment}" segment`;
    if (segment.startsWith(TEMP_MARK)) return `its segments may not start with "${TEMP_MARK}"`;
  }
  return undefined;
}

/** Byte order of the UTF-8 keys: the order S3 lists in, so every sink sorts alike. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
