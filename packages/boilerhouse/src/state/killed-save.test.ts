/** A save whose process is killed mid-upload (SIGKILL, no clean-up) leaves the previous save whole. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { waitFor } from '../testing/harness.ts';
import { saveBase } from './keys.ts';
import { MappingSet } from './mappings.ts';
import { LocalSink } from './sinks/local.ts';
import { SnapshotStore } from './snapshots.ts';

let root: string | undefined;

afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

const WHOLE = [{ path: '.', direction: 'bidirectional' as const, mode: 'sync' as const }];

test('kill -9 during a save: HEAD still names the previous save, and it restores whole', async () => {
  root = await mkdtemp(join(tmpdir(), 'killed-save-'));
  const state = join(root, 'state');
  const sinkDir = join(root, 'sink');
  await mkdir(state);
  for (let i = 0; i < 200; i++) await writeFile(join(state, `small-${i}`), `first ${i}`);
  const base = saveBase(undefined, 'alice', 'echo');
  const store = new SnapshotStore(new LocalSink(sinkDir), base);
  await store.save(state, new MappingSet(WHOLE), 'i-1');

  // The second save changes everything and adds large files, so it takes a while; a child process runs it.
  for (let i = 0; i < 200; i++) await writeFile(join(state, `small-${i}`), `second ${i}`);
  for (let i = 0; i < 20; i++) await writeFile(join(state, `large-${i}`), Buffer.alloc(8 * 1024 * 1024, i));
  const module = (name: string) => JSON.stringify(fileURLToPath(new URL(name, import.meta.url)));
  const script = `
    import { SnapshotStore } from ${module('./snapshots.ts')};
    import { MappingSet } from ${module('./mappings.ts')};
    import { LocalSink } from ${module('./sinks/local.ts')};
    const store = new SnapshotStore(new LocalSink(${JSON.stringify(sinkDir)}), ${JSON.stringify(base)});
    await store.save(${JSON.stringify(state)}, new MappingSet(${JSON.stringify(WHOLE)}), 'i-1');
    console.log('finished');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // Kill it once it has uploaded some of the new content, before it could have written HEAD.
  const blobs = join(sinkDir, base, 'blobs');
  await waitFor(async () => (await readdir(blobs).catch(() => [])).length > 0, 30_000, 'the first uploads');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(output).not.toContain('finished');

  expect(await store.head()).toBe(1);
  const target = join(root, 'restored');
  await mkdir(target);
  const restored = await new SnapshotStore(new LocalSink(sinkDir), base).restore(
    target,
    new MappingSet(WHOLE),
  );
  expect(restored).toMatchObject({ seq: 1, files: 200 });
  for (let i = 0; i < 200; i += 37)
    expect(await readFile(join(target, `small-${i}`), 'utf8')).toBe(`first ${i}`);
  expect((await readdir(target)).some((name) => name.startsWith('large-'))).toBe(false);
  // The next save after the crash completes normally.
  expect(await store.save(state, new MappingSet(WHOLE), 'i-1')).toMatchObject({ seq: 2, changed: true });
});
