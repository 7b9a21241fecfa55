/**
 * The compile pass of the image contexts (compile-typescript.ts) on a staged app made here: the result runs
 * on Node without type stripping, keeps the sources' lines, and a `.ts` name it cannot rewrite fails the
 * staging by file and line.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileStagedTypeScript, rewriteManifest, rewriteModuleNames } from './compile-typescript.ts';

const exec = promisify(execFile);
let app: string;

function put(path: string, text: string): void {
  mkdirSync(dirname(join(app, path)), { recursive: true });
  writeFileSync(join(app, path), text);
}

beforeEach(() => {
  app = mkdtempSync(join(tmpdir(), 'compile-typescript-'));
});
afterEach(() => rmSync(app, { recursive: true, force: true }));

describe('compileStagedTypeScript', () => {
  it('leaves a staged app that runs without type stripping, each line where it was', async () => {
    put('package.json', JSON.stringify({ type: 'module', exports: { '.': './src/main.ts' } }));
    put(
      'src/main.ts',
      [
        "import type { Shape } from './shape.ts';",
        "import { area } from './shape.ts';",
        "export { area } from './shape.ts';",
        'interface Label { text: string }',
        "const label: Label = { text: 'é…ü' };",
        "const { later } = await import('./later.ts');",
        'const square: Shape = { side: 3 };',
        'console.log(label.text, area(square), later());',
        'export const where = new Error().stack?.split("\\n")[1];',
      ].join('\n'),
    );
    put(
      'src/shape.ts',
      'export interface Shape { side: number }\nexport const area = (s: Shape): number => s.side ** 2;\n',
    );
    put('src/later.ts', "export const later = (): string => 'later';\n");
    put('bin/tool', "#!/usr/bin/env node\nimport '../src/main.ts';\n");
    // A dependency's files are not ours to compile, whatever they are named.
    put('node_modules/dep/index.ts', 'export const x: number = 1;\n');

    expect(compileStagedTypeScript(app)).toBe(3);

    expect(existsSync(join(app, 'src/main.ts'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/dep/index.ts'))).toBe(true);
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).exports).toEqual({
      '.': './src/main.js',
    });
    expect(readFileSync(join(app, 'bin/tool'), 'utf8')).toBe(
      "#!/usr/bin/env node\nimport '../src/main.js';\n",
    );
    const { stdout } = await exec(process.execPath, ['--no-experimental-strip-types', join(app, 'bin/tool')]);
    expect(stdout).toBe('é…ü 9 later\n');
    const { stdout: where } = await exec(process.execPath, [
      '--no-experimental-strip-types',
      '--input-type=module',
      '-e',
      `import { where } from '${join(app, 'src/main.js')}'; console.log(where);`,
    ]);
    expect(where).toContain('main.js:9:');
  });

  it('fails on a .ts name left in a string, naming the file and line', () => {
    put('src/main.ts', "import './a.ts';\nconst entry: string = './worker.ts';\nconsole.log(entry);\n");
    put('src/a.ts', 'export {};\n');
    expect(() => compileStagedTypeScript(app)).toThrow(/src\/main\.js:2: \.\/worker\.ts/);
  });

  it('names the file whose types cannot be stripped', () => {
    put('src/bad.ts', 'enum Colour { Red }\n');
    expect(() => compileStagedTypeScript(app)).toThrow(/src\/bad\.ts: cannot strip its types/);
  });
});

describe('rewriteModuleNames', () => {
  it('rewrites relative .ts module names only, keeping every position', () => {
    const text =
      "import a from './a.ts';\nimport b from 'pkg/b.ts';\nimport c from '../c.d.ts';\nconst d = import(`./d.ts`);\n";
    const out = rewriteModuleNames('x.js', text);
    expect(out).toBe(
      "import a from './a.js';\nimport b from 'pkg/b.ts';\nimport c from '../c.d.ts';\nconst d = import(`./d.js`);\n",
    );
    expect(out.length).toBe(text.length);
  });
});

describe('rewriteManifest', () => {
  it('rewrites .ts entry points in main, bin, exports (conditions too) and imports', () => {
    expect(
      rewriteManifest({
        name: 'p',
        main: './src/index.ts',
        bin: { p: './bin/p.ts' },
        exports: { '.': { import: './src/index.ts', types: './src/index.d.ts' }, './x': './src/x.ts' },
        imports: { '#y': './src/y.ts' },
        description: 'mentions ./src/index.ts and stays',
      }),
    ).toEqual({
      name: 'p',
      main: './src/index.js',
      bin: { p: './bin/p.js' },
      exports: { '.': { import: './src/index.js', types: './src/index.d.ts' }, './x': './src/x.js' },
      imports: { '#y': './src/y.js' },
      description: 'mentions ./src/index.ts and stays',
    });
  });
});
