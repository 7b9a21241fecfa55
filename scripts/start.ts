/**
 * The main job, as far as the project has come: validate the shipped workloads, then run the echo
 * workload's image locked down on loopback and print its links. Ctrl-C stops and removes it.
 * (Once the Boilerhouse daemon exists, this starts the daemon with its pools instead.)
 */
import { execFile, spawn } from 'node:child_process';
import { chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { formatProblem, loadWorkload, type WorkloadSpec } from '@boilerhouse/spec';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

async function validateWorkloads(): Promise<Map<string, WorkloadSpec>> {
  const specs = new Map<string, WorkloadSpec>();
  const dir = join(root, 'workloads');
  for (const name of (await readdir(dir)).filter((file) => file.endsWith('.yaml')).sort()) {
    const file = join('workloads', name);
    const result = loadWorkload(await readFile(join(dir, name), 'utf8'), { file, env: process.env });
    for (const problem of result.problems) console.log(formatProblem(file, problem));
    if (result.spec === undefined) throw new Error(`${file} is not valid`);
    specs.set(result.spec.id, result.spec);
    console.log(`workload ${result.spec.id}: valid (${file})`);
  }
  return specs;
}

async function runEcho(echo: WorkloadSpec): Promise<void> {
  const stateDir = join(root, '.data', 'demo', 'echo-state');
  await mkdir(stateDir, { recursive: true });
  await chown(stateDir, 1000, 1000);
  const target = echo.volumes.state?.target ?? '/data';
  const { stdout } = await exec('docker', [
    'run',
    '--detach',
    '--rm',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--user',
    echo.security.user ?? '1000:1000',
    '--tmpfs',
    '/tmp',
    '--volume',
    `${stateDir}:${target}`,
    '--label',
    'boilerhouse.managed=demo',
    '--publish',
    `127.0.0.1::${echo.expose[0] ?? 8080}`,
    echo.image,
  ]);
  const id = stdout.trim();
  const stop = async () => {
    await exec('docker', ['rm', '--force', id]).catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const port = (await exec('docker', ['port', id, String(echo.expose[0] ?? 8080)])).stdout
    .trim()
    .split(':')
    .pop();
  const url = `http://127.0.0.1:${port}`;
  console.log(`\necho workload running (container ${id.slice(0, 12)}), state in ${stateDir}`);
  console.log(`  ${url}/health`);
  console.log(`  ${url}/counter   (counts up, kept in the state volume)`);
  console.log('Ctrl-C stops it.\n');
  // Follow the container's log: it shows the workload at work and keeps this process alive.
  const logs = spawn('docker', ['logs', '--follow', id], { stdio: 'inherit' });
  logs.on('exit', () => process.exit(1));
}

const specs = await validateWorkloads();
await runEcho(specs.get('echo') as WorkloadSpec);
