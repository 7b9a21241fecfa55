/**
 * Builds the daemon's image (`boilerhouse:latest`) from this checkout, without a registry: stages a context
 * with the checkout's layout and only what the daemon loads, and runs `docker build` on it. Skipped when
 * the image's recipe label says it was made from the same files, package versions and base image.
 *
 *   node images/boilerhouse/build.ts [TAG]     (npm run build:image)
 *
 * Needs what scripts/setup.sh makes: the node image, the gate and SQLite helper, the dashboard's build.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import {
  readManifest,
  REPO_ROOT as root,
  runtimeClosure,
  sizeOf,
  sourceFiles,
  topPackages,
  workspaceSource,
} from '../package-closure.ts';

const run = promisify(execFile);

export const DAEMON_IMAGE = 'boilerhouse:latest';
const here = import.meta.dirname;
const packageDir = join(root, 'packages', 'boilerhouse');
const NATIVE = ['native/build/boilerhouse-gate', 'native/build/boilerhouse-sqlite-backup'];
const DASHBOARD = join(root, 'packages', 'dashboard', 'dist');

/** Checkout-relative paths of the repository's own files in the image (the rest: packages by version). */
function ownFiles(): string[] {
  const missing = [...NATIVE.map((file) => join(packageDir, file)), join(DASHBOARD, 'index.html')].filter(
    (path) => !existsSync(path),
  );
  if (missing.length > 0)
    throw new Error(
      `${missing.map((path) => relative(root, path)).join(', ')} missing: run scripts/setup.sh`,
    );
  const inPackage = sourceFiles(packageDir, ['bin/boilerhouse', 'bin/bh', ...NATIVE]).map((file) =>
    join('packages', 'boilerhouse', file),
  );
  const images = ['Dockerfile', 'entrypoint.sh', 'host-mounts.ts', 'propagating-mount.sh'].map((file) =>
    join('images', 'boilerhouse', file),
  );
  const dashboard: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else dashboard.push(relative(root, join(dir, entry.name)));
    }
  };
  walk(DASHBOARD);
  return [...inPackage, ...images, ...dashboard.sort()];
}

/** What the image is made of, with the id of the image it builds on. */
export async function daemonImageRecipe(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ownFiles()) hash.update(file).update(readFileSync(join(root, file)));
  for (const dir of runtimeClosure(packageDir)) {
    hash.update(`${relative(root, dir)}@${readManifest(dir).version}\n`);
    const source = workspaceSource(dir);
    if (source !== undefined)
      for (const file of workspaceFiles(source)) hash.update(file).update(readFileSync(join(source, file)));
  }
  hash.update(await imageId(baseImage()));
  return hash.digest('hex').slice(0, 16);
}

/** A workspace package's files: its sources and, for @boilerhouse/spec, the JSON Schema it exports. */
function workspaceFiles(dir: string): string[] {
  const schema = 'workload.schema.json';
  return sourceFiles(dir, existsSync(join(dir, schema)) ? [schema] : []);
}

function baseImage(): string {
  const line = readFileSync(join(here, 'Dockerfile'), 'utf8').match(/^ARG BASE=(\S+)$/m);
  if (line?.[1] === undefined) throw new Error('images/boilerhouse/Dockerfile names no ARG BASE=');
  return line[1];
}

async function imageId(image: string): Promise<string> {
  const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image]).catch(() => {
    throw new Error(`${image} is missing: run scripts/setup.sh`);
  });
  return stdout.trim();
}

/** The checkout's layout under app/, holding only what the daemon loads. */
function stage(target: string): void {
  const app = join(target, 'app');
  cpSync(join(here, 'Dockerfile'), join(target, 'Dockerfile'));
  const copy = (from: string, to: string) => {
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true, dereference: true });
  };
  for (const file of ownFiles())
    if (file !== 'images/boilerhouse/Dockerfile') copy(join(root, file), join(app, file));
  for (const dir of topPackages(runtimeClosure(packageDir))) {
    const source = workspaceSource(dir);
    const destination = join(app, relative(root, dir));
    if (source === undefined) {
      copy(dir, destination);
      continue;
    }
    // A workspace package, linked from node_modules as npm links it here: Node strips types only outside
    // node_modules, and follows the link.
    for (const file of workspaceFiles(source))
      copy(join(source, file), join(app, relative(root, source), file));
    mkdirSync(dirname(destination), { recursive: true });
    symlinkSync(relative(dirname(destination), join(app, relative(root, source))), destination);
  }
}

/** Builds `tag` unless it is up to date; says which, with the time it took. */
export async function buildDaemonImage(tag = DAEMON_IMAGE): Promise<{ built: boolean; ms: number }> {
  const started = Date.now();
  const recipe = await daemonImageRecipe();
  const label = await run('docker', [
    'image',
    'inspect',
    '--format',
    '{{index .Config.Labels "boilerhouse.recipe"}}',
    tag,
  ])
    .then(({ stdout }) => stdout.trim())
    .catch(() => '');
  if (label === recipe) return { built: false, ms: Date.now() - started };
  const context = mkdtempSync(join(tmpdir(), 'boilerhouse-image-'));
  try {
    stage(context);
    await run(
      'docker',
      ['build', '--quiet', '--label', `boilerhouse.recipe=${recipe}`, '--tag', tag, context],
      {
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    process.stderr.write(`staged ${(sizeOf(join(context, 'app')) / 1024 / 1024).toFixed(1)} MiB\n`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return { built: true, ms: Date.now() - started };
}

if (import.meta.main) {
  const tag = process.argv[2] ?? DAEMON_IMAGE;
  const { built, ms } = await buildDaemonImage(tag);
  process.stdout.write(`${tag} ${built ? 'built' : 'up to date'} (${(ms / 1000).toFixed(1)} s)\n`);
}
