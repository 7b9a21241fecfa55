/**
 * Stages the build context of the `nanoclaw` image without a registry or an install: the host package
 * (sources without tests, bin, package.json) and, from this checkout's node_modules, exactly the packages
 * it loads at run time (its dependencies and theirs, found the way Node resolves them). A workspace package
 * among them (npm links it into node_modules) goes to app/workspace/<name>, sources without tests, linked
 * from node_modules the same way (outside node_modules, where the compile pass looks for our own
 * sources; Node follows the link). Of the agent package it stages only the modules the host imports
 * (agent-modules.ts), the same way. The staged TypeScript is then compiled to JavaScript
 * (../compile-typescript.ts).
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
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { compileStagedTypeScript } from '../compile-typescript.ts';
import {
  runtimeClosure as closureOf,
  readManifest,
  REPO_ROOT as root,
  sizeOf,
  sourceFiles,
  topPackages,
  workspaceSource,
} from '../package-closure.ts';
import { AGENT_PACKAGE, agentModules } from './agent-modules.ts';

const packageDir = join(root, 'packages', 'nanoclaw');

/** Every package directory the host loads at run time. */
const runtimeClosure = () => closureOf(packageDir);

const ownFiles = () => sourceFiles(packageDir, [join('bin', 'nanoclaw')]);

/** The agent's modules the host loads, and the manifest that exports just those. */
function agentPart() {
  const available = new Set(runtimeClosure().map((dir) => readManifest(dir).name));
  const agent = agentModules(packageDir, ownFiles(), join(root, 'packages', 'nanoclaw-agent'), available);
  const { name, version } = readManifest(agent.dir);
  const manifest = { name, version, private: true, type: 'module', exports: agent.exports };
  return { ...agent, manifest: `${JSON.stringify(manifest, null, 2)}\n` };
}

function recipe(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(import.meta.dirname, 'Dockerfile')));
  hash.update(readFileSync(join(import.meta.dirname, '..', 'compile-typescript.ts')));
  for (const file of ownFiles()) hash.update(file).update(readFileSync(join(packageDir, file)));
  for (const dir of runtimeClosure()) {
    const manifest = readManifest(dir);
    hash.update(`${relative(root, dir)}@${manifest.version}\n`);
    const source = workspaceSource(dir);
    if (source !== undefined)
      for (const file of sourceFiles(source)) hash.update(file).update(readFileSync(join(source, file)));
  }
  const agent = agentPart();
  hash.update(agent.manifest);
  for (const file of agent.files) hash.update(file).update(readFileSync(join(agent.dir, file)));
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
  const tops = topPackages(closure);
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
  const agent = agentPart();
  const staged = join(target, 'app', 'workspace', basename(agent.dir));
  for (const file of agent.files) {
    mkdirSync(dirname(join(staged, file)), { recursive: true });
    cpSync(join(agent.dir, file), join(staged, file));
  }
  writeFileSync(join(staged, 'package.json'), agent.manifest);
  const link = join(target, 'app', 'node_modules', AGENT_PACKAGE);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(relative(dirname(link), staged), link);
  const compiled = compileStagedTypeScript(join(target, 'app'));
  const size = tops.reduce((total, dir) => total + sizeOf(dir), 0);
  process.stdout.write(
    `staged ${closure.length} packages (${(size / 1024 / 1024).toFixed(1)} MiB) in ${target}, ${compiled} TypeScript files compiled\n`,
  );
}

const [argument] = process.argv.slice(2);
if (argument === '--recipe') process.stdout.write(`${recipe()}\n`);
else if (argument !== undefined) stage(argument);
else {
  process.stderr.write('usage: node images/nanoclaw/context.ts <empty dir> | --recipe\n');
  process.exit(2);
}
