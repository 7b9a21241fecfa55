/**
 * A chat's files on disk: names checked or made safe, types from magic bytes, kept in the group's folder
 * under a free name, and read back only through real directories and regular files (the agent's folder
 * may hold links anywhere).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Layout, prepareGroupDirs, prepareHome } from '../layout.ts';
import { PNG } from '../testing/images.ts';
import { tempHome } from '../testing/temp-home.ts';
import { FileRefusedError, GroupFiles } from './group-files.ts';
import { MAX_FILE_BYTES } from './limits.ts';
import { fileNameProblem, MAX_NAME_BYTES, safeFileName, withSuffix } from './names.ts';
import { sniffType } from './sniff.ts';

describe('file names', () => {
  it('refuses separators, dots, control and formatting characters and long names, saying which', () => {
    const cases: Array<[string, string | undefined]> = [
      ['holiday photo.jpg', undefined],
      ['Ünïcødé – ok.pdf', undefined],
      ['../etc/passwd', 'has a path separator (/ or \\)'],
      ['dir\\file.txt', 'has a path separator (/ or \\)'],
      ['..', 'starts with a dot (. and .. and hidden files are not kept)'],
      ['.bashrc', 'starts with a dot (. and .. and hidden files are not kept)'],
      ['bell\u0007.txt', 'has control or formatting characters'],
      ['line\nbreak.txt', 'has control or formatting characters'],
      ['gpj\u202Eexe.jpg', 'has control or formatting characters'],
      ['   ', 'is empty'],
      [`${'a'.repeat(MAX_NAME_BYTES - 4)}.txt`, undefined],
      [`${'a'.repeat(MAX_NAME_BYTES)}.txt`, `is longer than ${MAX_NAME_BYTES} bytes`],
      [`${'é'.repeat(MAX_NAME_BYTES / 2)}`, undefined],
      [`${'é'.repeat(MAX_NAME_BYTES / 2 + 1)}`, `is longer than ${MAX_NAME_BYTES} bytes`],
      ['\uD800.txt', 'is not valid Unicode'],
    ];
    for (const [name, problem] of cases) expect([name, fileNameProblem(name)]).toEqual([name, problem]);
  });

  it('makes names from elsewhere safe: no separators, no leading dots, cut with the extension kept', () => {
    expect(safeFileName('../../etc/passwd', 'file')).toBe('_.._etc_passwd');
    expect(safeFileName('...hidden', 'file')).toBe('hidden');
    expect(safeFileName('a\u0000b\u202Ec.png', 'file')).toBe('a_b_c.png');
    expect(safeFileName('  ', 'photo-1.jpg')).toBe('photo-1.jpg');
    const long = safeFileName(`${'x'.repeat(300)}.pdf`, 'file');
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(long.endsWith('.pdf')).toBe(true);
    const accented = safeFileName(`${'é'.repeat(150)}.txt`, 'file');
    expect(Buffer.byteLength(accented)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(accented).toMatch(/^é+\.txt$/);
    expect(safeFileName('holiday photo.jpg', 'file')).toBe('holiday photo.jpg');
    expect(withSuffix('photo.png', 2)).toBe('photo-2.png');
    expect(withSuffix('README', 3)).toBe('README-3');
  });
});

describe('types', () => {
  it('come from the first bytes: the four image types, PDF, and everything else as octet-stream', () => {
    expect(sniffType(PNG)).toBe('image/png');
    expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).toBe('image/jpeg');
    expect(sniffType(Buffer.from('GIF89a\x01\x00'))).toBe('image/gif');
    expect(sniffType(Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 '))).toBe('image/webp');
    expect(sniffType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(sniffType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'))).toBe(
      'application/octet-stream',
    );
    expect(sniffType(Buffer.from('<html><script>alert(1)</script>'))).toBe('application/octet-stream');
    expect(sniffType(Buffer.from('RIFF\x10\x00\x00\x00WAVE'))).toBe('application/octet-stream');
    expect(sniffType(Buffer.alloc(0))).toBe('application/octet-stream');
  });
});

describe('a group folder of files', () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let layout: Layout;
  let files: GroupFiles;
  beforeEach(async () => {
    home = await tempHome();
    layout = new Layout(home.path);
    prepareHome(layout, 'Andy');
    prepareGroupDirs(layout, 'main');
    files = new GroupFiles(layout);
  });
  afterEach(() => home.remove());

  it('keeps files under their names in files/, a suffix for a name taken, with the sniffed type', () => {
    expect(files.save('main', 'cat.png', PNG)).toEqual({
      name: 'cat.png',
      type: 'image/png',
      size: PNG.length,
    });
    expect(files.save('main', 'cat.png', Buffer.from('not a png'))).toEqual({
      name: 'cat-2.png',
      type: 'application/octet-stream',
      size: 9,
    });
    expect(files.save('main', '../cat.png', PNG).name).toBe('_cat.png');
    const dir = join(layout.groupDir('main'), 'files');
    expect(readdirSync(dir).sort()).toEqual(['_cat.png', 'cat-2.png', 'cat.png']);
    expect(readFileSync(join(dir, 'cat.png'))).toEqual(PNG);
    expect(files.read('main', 'cat-2.png').toString()).toBe('not a png');
    if (process.getuid?.() === 0) expect(statSync(join(dir, 'cat.png')).uid).toBe(1000);
  });

  it('never replaces what the agent put at a name, a link included: the next free name is taken', () => {
    const dir = join(layout.groupDir('main'), 'files');
    mkdirSync(dir);
    symlinkSync('/etc/passwd', join(dir, 'notes.txt'));
    expect(files.save('main', 'notes.txt', Buffer.from('mine')).name).toBe('notes-2.txt');
    expect(readFileSync('/etc/passwd', 'utf8')).not.toBe('mine');
  });

  it('refuses to write through a files/ that the agent made a link', () => {
    const outside = join(home.path, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(layout.groupDir('main'), 'files'));
    expect(() => files.save('main', 'x.txt', Buffer.from('x'))).toThrow();
    expect(readdirSync(outside)).toEqual([]);
  });

  it('reads only regular files reached through real folders, and says why not otherwise', () => {
    const group = layout.groupDir('main');
    mkdirSync(join(group, 'out'));
    writeFileSync(join(group, 'out', 'chart.png'), PNG);
    expect(files.readPath('main', 'out/chart.png')).toEqual(PNG);
    symlinkSync('/etc', join(group, 'etc'));
    symlinkSync('/etc/hostname', join(group, 'out', 'host'));
    mkdirSync(join(group, 'out', 'folder'));
    writeFileSync(join(group, 'big.bin'), Buffer.alloc(MAX_FILE_BYTES + 1));
    const refusal = (path: string) => {
      try {
        files.readPath('main', path);
      } catch (error) {
        if (error instanceof FileRefusedError) return [error.message, error.missing];
        throw error;
      }
      return 'read';
    };
    expect(refusal('etc/hostname')).toEqual([
      'etc/hostname goes through something that is not a folder (links are not followed)',
      false,
    ]);
    expect(refusal('out/host')).toEqual([
      'out/host is (or goes through) a link; links are not followed',
      false,
    ]);
    expect(refusal('out/folder')).toEqual(['out/folder is not a regular file', false]);
    expect(refusal('out/chart.png/x')).toEqual([
      'out/chart.png/x goes through something that is not a folder (links are not followed)',
      false,
    ]);
    expect(refusal('big.bin')).toEqual(['big.bin is larger than 10 MB, the limit for a file', false]);
    expect(refusal('nothing.txt')).toEqual(["there is no nothing.txt in the group's folder", true]);
    expect(refusal('../family/CLAUDE.md')).toEqual([
      `"../family/CLAUDE.md" is not a plain path inside the group's folder (no "..", no "//")`,
      false,
    ]);
    expect(() => files.read('main', '../CLAUDE.md')).toThrow('file name "../CLAUDE.md" has a path separator');
  });
});
