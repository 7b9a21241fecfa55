/**
 * What an image of one of this repository's packages needs from the checkout, found without a registry or
 * an install: the packages it loads at run time (its dependencies and theirs, resolved the way Node resolves
 * them), and each package's own files without tests. Used by the scripts that stage build contexts
 * (images/nanoclaw/context.ts, images/boilerhouse/build.ts).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..');

export interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export const readManifest = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Where `name` resolves from a package in `fromDir`: its own node_modules, then each parent's. */
function resolvePackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === REPO_ROOT || dirname(dir) === dir) return undefined;
  }
}

/** Every package directory `packageDir` loads at run time. Missing optional dependencies are skipped. */
export function runtimeClosure(packageDir: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string) => {
    const manifest = readManifest(dir);
    const wanted = [
      ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, optional: false })),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ];
    for (const { name, optional } of wanted) {
      const resolved = resolvePackage(name, dir);
      if (resolved === undefined) {
        if (optional) continue;
        throw new Error(`${manifest.name} needs ${name}, which is not installed: run npm ci`);
      }
      if (found.has(resolved)) continue;
      found.add(resolved);
      visit(resolved);
    }
  };
  visit(packageDir);
  return [...found].sort();
}

/** The closure without packages nested in another's node_modules: those travel with their parent's copy. */
export function topPackages(closure: readonly string[]): string[] {
  return closure.filter((dir) => !closure.some((other) => other !== dir && dir.startsWith(`${other}${sep}`)));
}

/** A package's files that go into an image: sources without tests or test helpers, its manifest, `extra`. */
export function sourceFiles(dir: string, extra: string[] = []): string[] {
  const files: string[] = ['package.json', ...extra];
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = join(sub, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'testing') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  walk('src');
  return files.sort();
}

/** Where a package in a closure really is, when it is one of this repository's workspace packages. */
export function workspaceSource(dir: string): string | undefined {
  const real = realpathSync(dir);
  return real.startsWith(join(REPO_ROOT, 'packages') + sep) ? real : undefined;
}

export function sizeOf(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((total, name) => total + sizeOf(join(path, name)), 0);
}
