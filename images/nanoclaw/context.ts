/**
 * Stages the build context of the `nanoclaw` image without a registry or an install: the host package
 * (sources without tests, bin, package.json) and, from this checkout's node_modules, exactly the packages
 * it loads at run time (its dependencies and theirs, found the way Node resolves them). A workspace package
 * among them (npm links it into node_modules) goes to app/workspace/<name>, sources without tests, linked
 * from node_modules the same way: Node strips types only outside node_modules, and follows the link.
 *
 *   node images/nanoclaw/context.ts <empty dir>   stage the context there
 *   node images/nanoclaw/context.ts --recipe      print what the image is made of (for the rebuild check)
 */
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const packageDir = join(root, 'packages', 'nanoclaw');

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Where `name` resolves from a package in `fromDir`: its own node_modules, then each parent's. */
function resolvePackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/** Every package directory the host loads at run time. Missing optional dependencies are skipped. */
export function runtimeClosure(): string[] {
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

/** A package's files that go into the image: sources without tests or test helpers, its manifest, `extra`. */
function sourceFiles(dir: string, extra: string[] = []): string[] {
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

const ownFiles = () => sourceFiles(packageDir, [join('bin', 'nanoclaw')]);

/** Where a package in the closure really is, when it is one of this repository's workspace packages. */
function workspaceSource(dir: string): string | undefined {
  const real = realpathSync(dir);
  return real.startsWith(join(root, 'packages') + sep) ? real : undefined;
}

function recipe(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(import.meta.dirname, 'Dockerfile')));
  for (const file of ownFiles()) hash.update(file).update(readFileSync(join(packageDir, file)));
  for (const dir of runtimeClosure()) {
    const manifest = readManifest(dir);
    hash.update(`${relative(root, dir)}@${manifest.version}\n`);
    const source = workspaceSource(dir);
    if (source !== undefined)
      for (const file of sourceFiles(source)) hash.update(file).update(readFileSync(join(source, file)));
  }
  return hash.digest('hex');
}

function stage(target: string): void {
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty`);
  mkdirSync(join(target, 'app'), { recursive: true });
  cpSync(join(import.meta.dirname, 'Dockerfile'), join(target, 'Dockerfile'));
  for (const file of ownFiles()) {
    mkdirSync(dirname(join(target, 'app', file)), { recursive: true });
    cpSync(join(packageDir, file), join(target, 'app', file));
  }
  // Packages nested in another's node_modules travel with their parent's copy.
  const closure = runtimeClosure();
  const tops = closure.filter(
    (dir) => !closure.some((other) => other !== dir && dir.startsWith(`${other}${sep}`)),
  );
  for (const dir of tops) {
    const inRoot = relative(join(root, 'node_modules'), dir);
    const destination = inRoot.startsWith('..')
      ? join(target, 'app', relative(packageDir, dir))
      : join(target, 'app', 'node_modules', inRoot);
    const source = workspaceSource(dir);
    if (source === undefined) {
      cpSync(dir, destination, { recursive: true, dereference: true });
      continue;
    }
    const staged = join(target, 'app', 'workspace', basename(source));
    for (const file of sourceFiles(source)) {
      mkdirSync(dirname(join(staged, file)), { recursive: true });
      cpSync(join(source, file), join(staged, file));
    }
    mkdirSync(dirname(destination), { recursive: true });
    symlinkSync(relative(dirname(destination), staged), destination);
  }
  const size = tops.reduce((total, dir) => total + sizeOf(dir), 0);
  process.stdout.write(
    `staged ${closure.length} packages (${(size / 1024 / 1024).toFixed(1)} MiB) in ${target}\n`,
  );
}

function sizeOf(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((total, name) => total + sizeOf(join(path, name)), 0);
}

const [argument] = process.argv.slice(2);
if (argument === '--recipe') process.stdout.write(`${recipe()}\n`);
else if (argument !== undefined) stage(argument);
else {
  process.stderr.write('usage: node images/nanoclaw/context.ts <empty dir> | --recipe\n');
  process.exit(2);
}
