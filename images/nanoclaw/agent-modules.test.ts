import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { agentModules } from './agent-modules.ts';

let root: string;
const host = () => join(root, 'host');
const agent = () => join(root, 'agent');

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'agent-modules-'));
  write(
    join(agent(), 'package.json'),
    JSON.stringify({
      name: '@boilerhouse/nanoclaw-agent',
      version: '0.1.0',
      exports: { './wire': './src/wire.ts', './types': './src/types.ts', './sdk': './src/sdk.ts' },
    }),
  );
  write(
    join(agent(), 'src', 'wire.ts'),
    "import { join } from 'node:path';\nexport * from './parts/shape.ts';\n",
  );
  write(
    join(agent(), 'src', 'parts', 'shape.ts'),
    "export type { Z } from 'zod';\nexport const SHAPE = 1;\n",
  );
  write(join(agent(), 'src', 'types.ts'), "import { z } from 'zod';\nexport type T = string;\n");
  write(join(agent(), 'src', 'sdk.ts'), "import { query } from '@anthropic-ai/claude-agent-sdk';\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const hostImports = (text: string) => write(join(host(), 'src', 'uses.ts'), text);
const modules = () =>
  agentModules(host(), ['package.json', 'src/uses.ts'], agent(), new Set(['cron-parser']));

test('stages the subpaths the host imports for a value and the files they import, never a type-only one', () => {
  hostImports(
    "import { SHAPE } from '@boilerhouse/nanoclaw-agent/wire';\nimport type { T } from '@boilerhouse/nanoclaw-agent/types';\n",
  );
  expect(modules()).toEqual({
    dir: agent(),
    exports: { './wire': './src/wire.ts' },
    files: ['src/parts/shape.ts', 'src/wire.ts'],
  });
});

test('refuses a shared module that loads a package the host image lacks, naming both', () => {
  hostImports("import '@boilerhouse/nanoclaw-agent/sdk';\n");
  expect(modules).toThrow(
    /src\/sdk\.ts imports @anthropic-ai\/claude-agent-sdk, which the host image does not have/,
  );
});

test('refuses a subpath the agent package does not export', () => {
  hostImports("import { x } from '@boilerhouse/nanoclaw-agent/src/wire.ts';\n");
  expect(modules).toThrow(
    /src\/uses\.ts imports @boilerhouse\/nanoclaw-agent\/src\/wire\.ts, which .* does not export/,
  );
});
