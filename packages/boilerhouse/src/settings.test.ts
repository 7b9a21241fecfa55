/** One list of the daemon's settings: everything the daemon reads is in it, and the README lists the same. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DAEMON_SETTINGS } from './settings.ts';

const SRC = import.meta.dirname;
/** Variables that are not the daemon's settings: the CLI's, those given to instances, a test switch. */
const NOT_SETTINGS = new Set([
  'BOILERHOUSE_URL',
  'BOILERHOUSE_TOKEN',
  'BOILERHOUSE_TENANT',
  'BOILERHOUSE_INSTANCE',
  'BOILERHOUSE_CRASH_AT',
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test("every BOILERHOUSE_* variable the daemon's code reads is a listed setting", () => {
  const read = new Set<string>();
  for (const file of sources(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/env\.(BOILERHOUSE_[A-Z_]+)/g))
      read.add(match[1] as string);
  }
  const listed = new Set(DAEMON_SETTINGS.map((setting) => setting.name));
  expect([...read].filter((name) => !listed.has(name) && !NOT_SETTINGS.has(name))).toEqual([]);
});

test("the README's settings table names exactly the listed settings", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const table = readme.split('| variable | default | |')[1]?.split('\n\n')[0] ?? '';
  const named = [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) =>
    [...(row[1] as string).matchAll(/`([A-Z_]+)`/g)].map((name) => name[1] as string),
  );
  expect(named.sort()).toEqual(DAEMON_SETTINGS.map((setting) => setting.name).sort());
});
