/**
 * The real agent image run the way the host runs it (AGENT-PROTOCOL.md): `docker run -i` as uid 1000,
 * the input on stdin, temp dirs mounted at the protocol's paths. Environment values are passed through the
 * docker client's own environment (`-e NAME`), never on its command line.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { compileModule } from '../../../../images/compile-typescript.ts';
import type { ParsedOutput } from '../frames.ts';
import { ipcFileName } from '../ipc-files.ts';
import { CLOSE_FILE, INPUT_DIR } from '../ipc-input.ts';
import { parseFrames } from '../output.ts';

const exec = promisify(execFile);
export const AGENT_IMAGE = 'nanoclaw-agent:latest';
/** Every container started here carries this label, so a cleanup finds exactly its own. */
export const TEST_LABEL = 'nanoclaw-agent.test';

export interface AgentDirs {
  root: string;
  /** groups/{group}: /workspace/group */
  group: string;
  /** groups/: /workspace/global */
  global: string;
  /** data/sessions/{group}: /home/node/.claude */
  sessions: string;
  /** data/ipc/{group}: /workspace/ipc */
  ipc: string;
  /** data/model/{group}: /workspace/model (read-only), where the host's model proxy socket is */
  model: string;
}

/** A fresh groups/, session and IPC layout for one group, writable by the container's uid 1000. */
export async function makeAgentDirs(group = 'main'): Promise<AgentDirs> {
  const root = await mkdtemp(join(tmpdir(), 'nanoclaw-agent-test-'));
  const dirs: AgentDirs = {
    root,
    global: join(root, 'groups'),
    group: join(root, 'groups', group),
    sessions: join(root, 'data', 'sessions', group),
    ipc: join(root, 'data', 'ipc', group),
    model: join(root, 'data', 'model', group),
  };
  for (const dir of [dirs.global, dirs.group, dirs.sessions, dirs.ipc]) {
    await mkdir(dir, { recursive: true });
    await chown(dir, 1000, 1000);
  }
  // The host's, as NanoClaw makes it: the agent only connects to the socket in it.
  await mkdir(dirs.model, { recursive: true });
  return dirs;
}

export async function removeAgentDirs(dirs: AgentDirs): Promise<void> {
  await rm(dirs.root, { recursive: true, force: true });
}

export interface AgentContainerOptions {
  /** The stdin JSON (an object is serialised; a string is sent as is, e.g. to test bad input). */
  input: object | string;
  dirs: AgentDirs;
  /** Environment for the agent, e.g. IDLE_TIMEOUT (the model is reached through the socket in dirs.model). */
  env: Record<string, string>;
  /** Mount /workspace/global read-write (the main group's mount); read-only otherwise. */
  globalWritable?: boolean;
  image?: string;
  /**
   * Under the caps a Boilerhouse-hosted NanoClaw's agents get (workloads/nanoclaw.yaml `docker.limits`,
   * and the read-only root with a 64 MiB /tmp that its filtered socket forces).
   */
  hostedLimits?: boolean;
}

/** `docker run` flags of hostedLimits: memory (no swap), CPUs, pids, read-only root with its tmpfs. */
const HOSTED_LIMITS = [
  '--memory',
  '1024m',
  '--memory-swap',
  '1024m',
  '--cpus',
  '1',
  '--pids-limit',
  '256',
  '--read-only',
  '--tmpfs',
  '/tmp:rw,nosuid,nodev,size=64m',
];

export interface AgentContainer {
  name: string;
  /** The frames so far, in order. */
  readonly frames: ParsedOutput[];
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once `count` frames have arrived; rejects when the container exits first or time runs out. */
  waitForFrames(count: number, timeoutMs?: number): Promise<ParsedOutput[]>;
  /** The exit code, once the container has ended. */
  exited: Promise<number>;
  /** Writes a follow-up message file (with the images of its messages, if any) into input/, atomically. */
  writeFollowUp(text: string, images?: unknown[]): Promise<void>;
  /** Writes input/_close. */
  close(): Promise<void>;
  /** The container's hostname (its id's short form), from the engine. */
  hostname(): Promise<string>;
  /** `docker stop`: SIGTERM, then SIGKILL after `graceSeconds`. */
  stop(graceSeconds: number): Promise<void>;
}

const AGENT_SOURCES = new URL('..', import.meta.url).pathname;
/** The workspace package the agent shares with the host, staged at /app/workspace/nanoclaw-schedule. */
const SHARED_PACKAGE = new URL('../../../nanoclaw-schedule/', import.meta.url).pathname;

/** Sources under `dir` as scripts/setup.sh stages them into the image: no tests, no testing/. */
async function imageSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes('/testing/'));
}

/**
 * Fails unless the image exists and holds exactly the agent sources in the tree, and those of the
 * schedule package it shares with the host, as the image's build compiles them to JavaScript (compared by
 * content, so a fresh checkout of the same code passes), so that tests never pass or fail on code that is
 * not the code in the tree.
 */
export async function assertAgentImageCurrent(image = AGENT_IMAGE): Promise<void> {
  let listing: string;
  try {
    const { stdout } = await exec('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'sh',
      image,
      '-c',
      'cd /app && find src workspace -type f -name "*.js" -exec sha256sum {} +',
    ]);
    listing = stdout;
  } catch {
    throw new Error(`${image} is missing: run scripts/setup.sh (step agent-image) to build it`);
  }
  const inImage = new Map(
    listing
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/))
      .map(([hash, path]) => [path as string, hash as string]),
  );
  const expected = [
    ...(await imageSources(AGENT_SOURCES)).map((path) => ({
      path,
      inImage: relative(join(AGENT_SOURCES, '..'), path),
    })),
    ...(await imageSources(join(SHARED_PACKAGE, 'src'))).map((path) => ({
      path,
      inImage: join('workspace', 'nanoclaw-schedule', relative(SHARED_PACKAGE, path)),
    })),
  ];
  for (const { path, inImage: source } of expected) {
    const pathInImage = `${source.slice(0, -'.ts'.length)}.js`;
    const hash = createHash('sha256')
      .update(compileModule(source, await readFile(path, 'utf8')))
      .digest('hex');
    if (inImage.get(pathInImage) !== hash)
      throw new Error(
        `${image} does not hold the current ${path}: run scripts/setup.sh (step agent-image) to rebuild it`,
      );
  }
}

const started = new Set<string>();
let counter = 0;

export function startAgentContainer(options: AgentContainerOptions): AgentContainer {
  const { dirs } = options;
  const name = `nanoclaw-agent-test-${process.pid}-${++counter}`;
  started.add(name);
  const args = [
    'run',
    '-i',
    '--rm',
    '--name',
    name,
    '--label',
    `${TEST_LABEL}=${process.pid}`,
    '--user',
    '1000:1000',
  ];
  // Locked down as the host's runner creates it.
  args.push('--init', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges');
  if (options.hostedLimits) args.push(...HOSTED_LIMITS);
  args.push('--volume', `${dirs.group}:/workspace/group`);
  args.push('--volume', `${dirs.global}:/workspace/global${options.globalWritable ? '' : ':ro'}`);
  args.push('--volume', `${dirs.sessions}:/home/node/.claude`);
  args.push('--volume', `${dirs.ipc}:/workspace/ipc`);
  args.push('--volume', `${dirs.model}:/workspace/model:ro`);
  for (const key of Object.keys(options.env)) args.push('--env', key);
  args.push(options.image ?? AGENT_IMAGE);

  const child: ChildProcess = spawn('docker', args, { env: { PATH: process.env.PATH, ...options.env } });
  let stdout = '';
  let stderr = '';
  let frames: ParsedOutput[] = [];
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    frames = parseFrames(stdout);
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code) => {
      started.delete(name);
      resolve(code ?? -1);
      for (const listener of listeners) listener();
    });
  });
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  child.stdin?.end(typeof options.input === 'string' ? options.input : JSON.stringify(options.input));

  const inputDir = join(dirs.ipc, INPUT_DIR);
  const writeInput = async (fileName: string, content: string) => {
    await mkdir(inputDir, { recursive: true });
    await writeFile(join(inputDir, `${fileName}.tmp`), content);
    await rename(join(inputDir, `${fileName}.tmp`), join(inputDir, fileName));
  };

  return {
    name,
    get frames() {
      return frames;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitForFrames: (count, timeoutMs = 45_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (frames.length >= count) return finish(() => resolve(frames));
          if (ended)
            finish(() =>
              reject(
                new Error(`${name} exited with ${frames.length} of ${count} frames; stderr:\n${stderr}`),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `${name}: ${frames.length} of ${count} frames after ${timeoutMs} ms; stderr:\n${stderr}`,
                ),
              ),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
    writeFollowUp: (text, images) =>
      writeInput(ipcFileName(), JSON.stringify({ type: 'message', text, ...(images ? { images } : {}) })),
    close: () => writeInput(CLOSE_FILE, ''),
    stop: async (graceSeconds) => {
      await exec('docker', ['stop', '--time', String(graceSeconds), name]);
    },
    hostname: async () =>
      (await exec('docker', ['inspect', '--format', '{{.Config.Hostname}}', name])).stdout.trim(),
  };
}

/** Removes every container this process started that is still there. */
export async function removeAgentContainers(): Promise<void> {
  if (started.size === 0) return;
  await exec('docker', ['rm', '--force', ...started]).catch(() => {});
  started.clear();
}
