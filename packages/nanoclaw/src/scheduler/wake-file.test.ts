import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../log.ts';
import { tempHome } from '../testing/temp-home.ts';
import { WakeFile } from './wake-file.ts';

let home: Awaited<ReturnType<typeof tempHome>>;
let data: string;
let path: string;
let victim: string;
beforeEach(async () => {
  home = await tempHome();
  data = join(home.path, 'data');
  mkdirSync(data);
  path = join(data, 'wake-at');
  victim = join(home.path, 'victim');
  writeFileSync(victim, 'not yours\n');
});
afterEach(() => home.remove());

const at = Date.parse('2026-03-04T05:06:07.089Z');

describe('WakeFile', () => {
  it('writes the time as RFC 3339 in UTC, whole, leaving nothing beside it', () => {
    new WakeFile(path, silentLogger).set(at);
    expect(readFileSync(path, 'utf8')).toBe('2026-03-04T05:06:07.089Z\n');
    expect(readdirSync(data)).toEqual(['wake-at']);
  });

  it('makes its directory when it is missing', () => {
    new WakeFile(join(home.path, 'state', 'wake-at'), silentLogger).set(at);
    expect(readFileSync(join(home.path, 'state', 'wake-at'), 'utf8')).toBe('2026-03-04T05:06:07.089Z\n');
  });

  it('replaces a link planted at its name instead of writing through it', () => {
    symlinkSync(victim, path);
    new WakeFile(path, silentLogger).set(at);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('2026-03-04T05:06:07.089Z\n');
    expect(readFileSync(victim, 'utf8')).toBe('not yours\n');
  });

  it('removes a link swapped in at its name, not what the link points to, when nothing is due', () => {
    const wake = new WakeFile(path, silentLogger);
    wake.set(at);
    rmSync(path);
    symlinkSync(victim, path);
    wake.set(undefined);
    expect(() => lstatSync(path)).toThrow(/ENOENT/);
    expect(readFileSync(victim, 'utf8')).toBe('not yours\n');
  });

  it('does not write through its directory swapped for a link, says so, and tries again at the next call', () => {
    const lines: string[] = [];
    const elsewhere = join(home.path, 'elsewhere');
    mkdirSync(elsewhere);
    rmSync(data, { recursive: true });
    symlinkSync(elsewhere, data);
    const wake = new WakeFile(path, createLogger({ write: (line) => lines.push(line), format: 'json' }));
    wake.set(at);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(lines.join('\n')).toContain('could not update the wake file');
    rmSync(data);
    mkdirSync(data);
    wake.set(at);
    expect(readFileSync(path, 'utf8')).toBe('2026-03-04T05:06:07.089Z\n');
  });
});
