/** send_file's copy of a file the browser saved unnamed in /tmp: into the group's browser/, never via a link. */
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { keepBrowserOutput } from './browser-output.ts';

let root: string;
let group: string;
let output: string;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'browser-output-test-'));
  group = join(root, 'workspace', 'group');
  output = join(root, 'tmp', 'nanoclaw-browser', 'output');
  await mkdir(group, { recursive: true });
  await mkdir(output, { recursive: true });
  await writeFile(join(output, 'page-1.png'), PNG);
});
afterEach(() => rm(root, { recursive: true, force: true }));

test('a file named by its absolute path, or relative to the group as Playwright prints it, is copied in', async () => {
  expect(await keepBrowserOutput(join(output, 'page-1.png'), group, output)).toBe('browser/page-1.png');
  expect(await readFile(join(group, 'browser', 'page-1.png'))).toEqual(PNG);
  // Sent again: a second copy beside the first, which stays as it was.
  const printed = relative(group, join(output, 'page-1.png'));
  expect(printed).toMatch(/^\.\.\/\.\.\//);
  expect(await keepBrowserOutput(printed, group, output)).toBe('browser/page-1-2.png');
  expect(await readFile(join(group, 'browser', 'page-1-2.png'))).toEqual(PNG);
});

test('a path outside the output directory is not its business', async () => {
  expect(await keepBrowserOutput('screenshots/page.png', group, output)).toBeUndefined();
  expect(await keepBrowserOutput('/etc/passwd', group, output)).toBeUndefined();
  expect(await keepBrowserOutput(join(output, '..', 'config'), group, output)).toBeUndefined();
  expect(await keepBrowserOutput(output, group, output)).toBeUndefined();
});

test('a link, a directory, a missing or oversized file is refused, naming it', async () => {
  await symlink('/etc/passwd', join(output, 'link.png'));
  await mkdir(join(output, 'dir'));
  await writeFile(join(output, 'big.png'), '');
  await truncate(join(output, 'big.png'), 10 * 1024 * 1024 + 1);
  const problem = async (name: string) =>
    ((await keepBrowserOutput(join(output, name), group, output)) as { problem: string }).problem;
  expect(await problem('link.png')).toMatch(/link\.png: the browser's file cannot be read \(ELOOP/);
  expect(await problem('dir')).toMatch(/dir is not a file$/);
  expect(await problem('gone.png')).toMatch(/gone\.png: the browser's file cannot be read \(ENOENT/);
  expect(await problem('big.png')).toBe(
    `${join(output, 'big.png')} is 10485761 bytes, over send_file's limit of 10485760`,
  );
});

test("the group's browser/ is never followed when it is a link, nor a copy written through one", async () => {
  const elsewhere = join(root, 'elsewhere');
  await mkdir(elsewhere);
  await symlink(elsewhere, join(group, 'browser'));
  expect(await keepBrowserOutput(join(output, 'page-1.png'), group, output)).toEqual({
    problem: `${join(group, 'browser')} is not a directory: move it away to send the browser's files`,
  });
  await rm(join(group, 'browser'));
  await mkdir(join(group, 'browser'));
  await symlink(join(elsewhere, 'target.png'), join(group, 'browser', 'page-1.png'));
  expect(await keepBrowserOutput(join(output, 'page-1.png'), group, output)).toBe('browser/page-1-2.png');
  await expect(readFile(join(elsewhere, 'target.png'))).rejects.toThrow(/ENOENT/);
});
