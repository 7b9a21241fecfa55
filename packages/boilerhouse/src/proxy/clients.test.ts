/**
 * Real clients on the filtered socket, from the host: the docker CLI and dockerode, doing what an agent
 * runner does (create with binds of the instance's own files, attach, start, wait, remove) and what an
 * operator of the instance would (ps, logs, inspect, exec, info), all against the real engine.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHILD_IMAGE, childrenOnEngine, startTestProxy, type TestProxy } from './testing.ts';

const exec = promisify(execFile);
const MIB = 1024 * 1024;

let proxy: TestProxy;
let neighbour: TestProxy;

beforeAll(async () => {
  [proxy, neighbour] = await Promise.all([startTestProxy({ exec: true }), startTestProxy()]);
});

afterAll(async () => {
  await Promise.all([proxy?.cleanup(), neighbour?.cleanup()]);
});

/** The docker CLI on a test socket; resolves with its output, rejects with its stderr. */
async function docker(socket: TestProxy, ...args: string[]): Promise<string> {
  const env = { ...process.env, DOCKER_HOST: `unix://${socket.socketPath}`, DOCKER_CLI_HINTS: 'false' };
  try {
    return (await exec('docker', args, { env, timeout: 30_000 })).stdout;
  } catch (error) {
    throw new Error(((error as { stderr?: string }).stderr ?? String(error)).trim());
  }
}

/** Mount points of pinned bind sources of this proxy, as the host sees them. */
async function pinnedMounts(socket: TestProxy): Promise<string[]> {
  const pins = join(socket.stateDir, '..', '..', 'docker-pins');
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((line) => line.includes(pins));
}

describe('dockerode, as an agent runner uses it', () => {
  test('create with binds inside the state volume, attach stdin and output, start, wait, remove', async () => {
    const client = new Docker({ socketPath: proxy.socketPath });
    const container = await client.createContainer({
      name: 'agent-run-1',
      Image: CHILD_IMAGE,
      Cmd: [
        'sh',
        '-c',
        'read prompt; echo "prompt: $prompt"; cat /workspace/group/CLAUDE.md; echo answer > /workspace/group/out.txt; ls /workspace/state; echo to-stderr >&2',
      ],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: true,
      StdinOnce: true,
      HostConfig: {
        Mounts: [
          { Type: 'bind', Source: '/data/groups/main', Target: '/workspace/group', ReadOnly: false },
          { Type: 'bind', Source: '/data', Target: '/workspace/state', ReadOnly: true },
        ],
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Init: true,
      },
    });
    const stream = (await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadWriteStream;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    container.modem.demuxStream(stream, stdout, stderr);
    const ended = new Promise((resolve) => stream.on('end', resolve));
    await container.start();
    stream.end('hello agent\n');
    expect(await container.wait()).toMatchObject({ StatusCode: 0 });
    await ended;
    expect(out).toBe('prompt: hello agent\nmemory of the main group\ngroups\ntop.txt\n');
    expect(err).toBe('to-stderr\n');
    // What the container wrote is in the instance's own files, owned by the instance's volume.
    expect(await readFile(join(proxy.stateDir, 'groups', 'main', 'out.txt'), 'utf8')).toBe('answer\n');
    // Bind sources (the volume's root too) are pinned while the container exists, and unpinned once it is gone.
    expect(await pinnedMounts(proxy)).toHaveLength(2);
    const inspected = await container.inspect();
    expect(inspected.Name).toBe('/agent-run-1');
    expect(inspected.HostConfig).toMatchObject({
      Memory: 64 * MIB,
      MemorySwap: 64 * MIB,
      NanoCpus: 500_000_000,
      PidsLimit: 64,
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
    });
    expect(inspected.Config.Labels).toMatchObject({ 'boilerhouse.child.parent': proxy.instanceId });
    await container.remove({ force: true });
    await expect.poll(() => pinnedMounts(proxy)).toEqual([]);
    expect(await childrenOnEngine(proxy.engine, proxy.instanceId)).toEqual([]);
  });

  test('two instances may name a container alike, and neither sees the other one', async () => {
    const mine = new Docker({ socketPath: proxy.socketPath });
    const theirs = new Docker({ socketPath: neighbour.socketPath });
    const [a, b] = await Promise.all([
      mine.createContainer({ name: 'agent', Image: CHILD_IMAGE, Cmd: ['true'] }),
      theirs.createContainer({ name: 'agent', Image: CHILD_IMAGE, Cmd: ['true'] }),
    ]);
    expect((await mine.getContainer('agent').inspect()).Id).toBe(a.id);
    expect((await theirs.getContainer('agent').inspect()).Id).toBe(b.id);
    await expect(mine.getContainer(b.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await mine.listContainers({ all: true })).map((entry) => [entry.Id, entry.Names])).toEqual([
      [a.id, ['/agent']],
    ]);
    // A name that is taken answers as the engine would, without the instance prefix behind it.
    await expect(mine.createContainer({ name: 'agent', Image: CHILD_IMAGE })).rejects.toMatchObject({
      statusCode: 409,
      json: { message: expect.stringMatching(/^Conflict\. The container name "\/agent" is already in use/) },
    });
    expect(await mine.info()).toMatchObject({ Containers: 1, ContainersRunning: 0, Images: 0 });
    await Promise.all([a.remove(), b.remove()]);
  });
});

describe('the docker CLI', () => {
  test('docker run --rm with a bind of the state volume prints the file and leaves nothing behind', async () => {
    expect(
      await docker(proxy, 'run', '--rm', '-v', '/data/groups/main:/g:ro', CHILD_IMAGE, 'cat', '/g/CLAUDE.md'),
    ).toBe('memory of the main group\n');
    await expect.poll(() => childrenOnEngine(proxy.engine, proxy.instanceId)).toEqual([]);
  });

  test('run -d, ps, logs, exec, inspect, stop, rm and events, with the caps in force inside', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await docker(
      proxy,
      'run',
      '-d',
      '--name',
      'sleeper',
      CHILD_IMAGE,
      'sh',
      '-c',
      'echo started; exec sleep 60',
    );
    expect(await docker(proxy, 'ps', '--format', '{{.Names}} {{.Image}}')).toBe(`sleeper ${CHILD_IMAGE}\n`);
    await expect.poll(() => docker(proxy, 'logs', 'sleeper')).toBe('started\n');
    const inside = await docker(
      proxy,
      'exec',
      'sleeper',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; touch /root-file 2>&1 || true; touch /tmp/ok && echo tmp writable',
    );
    expect(inside).toBe(
      `${64 * MIB}\n64\ntouch: cannot touch '/root-file': Read-only file system\ntmp writable\n`,
    );
    expect(await docker(proxy, 'inspect', '--format', '{{.Name}} {{.HostConfig.CapDrop}}', 'sleeper')).toBe(
      '/sleeper [ALL]\n',
    );
    await docker(proxy, 'stop', '-t', '1', 'sleeper');
    await docker(proxy, 'rm', 'sleeper');
    expect(await docker(proxy, 'ps', '-a', '-q')).toBe('');
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const events = await docker(
      proxy,
      'events',
      '--since',
      since,
      '--until',
      until,
      '--filter',
      'container=sleeper',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    );
    expect(events.split('\n')).toEqual(
      expect.arrayContaining(['create sleeper', 'start sleeper', 'die sleeper', 'destroy sleeper']),
    );
  });

  test('exec with exec: true, but never privileged, and never in a container that is not a child', async () => {
    await docker(proxy, 'run', '-d', '--name', 'exec-target', CHILD_IMAGE, 'sleep', '60');
    expect(await docker(proxy, 'exec', '-u', '1000', 'exec-target', 'id', '-u')).toBe('1000\n');
    await expect(docker(proxy, 'exec', '--privileged', 'exec-target', 'true')).rejects.toThrow(
      'exec create refused: Privileged is refused',
    );
    const theirs = (await docker(neighbour, 'create', CHILD_IMAGE, 'sleep', '60')).trim();
    await expect(docker(proxy, 'exec', theirs, 'true')).rejects.toThrow(`No such container: ${theirs}`);
    await docker(neighbour, 'rm', '-f', theirs);
    await docker(proxy, 'rm', '-f', 'exec-target');
  });

  test('refusals reach the user as the daemon error they print', async () => {
    await expect(docker(proxy, 'run', '--rm', '--privileged', CHILD_IMAGE, 'true')).rejects.toThrow(
      'Error response from daemon: boilerhouse: container create refused: HostConfig.Privileged is refused: it runs privileged',
    );
    await expect(docker(proxy, 'run', '--rm', '-v', '/etc:/host-etc', CHILD_IMAGE, 'true')).rejects.toThrow(
      `bind source "/etc" is outside the instance's volumes (/data)`,
    );
    await expect(docker(proxy, 'run', '--rm', '--pid', 'host', CHILD_IMAGE, 'true')).rejects.toThrow(
      'HostConfig.PidMode is refused',
    );
    await expect(docker(proxy, 'volume', 'ls')).rejects.toThrow('GET "/volumes" is not allowed');
    await expect(docker(proxy, 'images')).rejects.toThrow('is not allowed');
    await expect(docker(neighbour, 'exec', 'anything', 'true')).rejects.toThrow(
      'No such container: anything',
    );
    expect(await readdir(join(proxy.stateDir, '..', '..', 'docker-pins'))).toEqual([]);
  });
});
