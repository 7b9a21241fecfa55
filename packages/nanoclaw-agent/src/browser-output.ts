/**
 * What the browser saved without being given a name (a screenshot as `page-{time}.png`, a PDF) is in its
 * output directory under the container's /tmp, which the host cannot see: send_file reads beneath the
 * group's folder. So a file named there is copied into the group's `browser/` first, and that copy is the
 * one sent (and kept with the group). The output directory stays in /tmp, bounded by its tmpfs: a page's
 * downloads and the snapshot files of every action go there too, and must not fill the tenant's state.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';

/** Playwright's outputDir (browser.ts): /tmp, as the root filesystem may be read-only. */
export const BROWSER_OUTPUT_DIR = '/tmp/nanoclaw-browser/output';
/** Where the copies go, inside the group's folder. */
export const KEPT_DIR = 'browser';
/** send_file's limit (the host's too): a bigger file is refused before it is copied. */
const MAX_BYTES = 10 * 1024 * 1024;
/** Names tried on a collision: page.png, page-2.png, ... */
const MAX_NAME_TRIES = 20;

/**
 * The path inside the group's folder of the copy made of `path`, a file in the browser's output
 * directory (absolute, or relative to the group's folder as Playwright prints it); undefined when `path`
 * is not in that directory.
 */
export async function keepBrowserOutput(
  path: string,
  groupDir: string,
  outputDir = BROWSER_OUTPUT_DIR,
): Promise<string | { problem: string } | undefined> {
  const inside = relative(outputDir, resolve(groupDir, path));
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
  const source = join(outputDir, inside);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    return { problem: `${path}: the browser's file cannot be read (${(error as Error).message})` };
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) return { problem: `${path} is not a file` };
    if (stat.size > MAX_BYTES)
      return { problem: `${path} is ${stat.size} bytes, over send_file's limit of ${MAX_BYTES}` };
    const data = await file.readFile();
    const dir = join(groupDir, KEPT_DIR);
    const made = await keptDir(dir);
    if (made !== undefined) return made;
    return await writeNew(dir, inside.split('/').at(-1) as string, data);
  } finally {
    await file.close();
  }
}

/** The group's `browser/`, made if missing; a link or a file in its place is refused. */
async function keptDir(dir: string): Promise<{ problem: string } | undefined> {
  try {
    if (!(await lstat(dir)).isDirectory())
      return { problem: `${dir} is not a directory: move it away to send the browser's files` };
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir);
    return undefined;
  }
}

/** Writes `data` under `name` in `dir`, or the first free `name-2`, `name-3`...; never replaces a file. */
async function writeNew(dir: string, name: string, data: Buffer): Promise<string | { problem: string }> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let attempt = 1; attempt <= MAX_NAME_TRIES; attempt++) {
    const candidate = attempt === 1 ? name : `${stem}-${attempt}${ext}`;
    const target = join(dir, candidate);
    let out: Awaited<ReturnType<typeof open>>;
    try {
      out = await open(
        target,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o644,
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    try {
      await out.writeFile(data);
    } catch (error) {
      // A part-written copy (a full disk) is not left to be mistaken for the file.
      await out.close();
      await unlink(target);
      throw error;
    }
    await out.close();
    return `${KEPT_DIR}/${candidate}`;
  }
  return { problem: `${dir} already holds ${name} and ${MAX_NAME_TRIES - 1} numbered copies of it` };
}
