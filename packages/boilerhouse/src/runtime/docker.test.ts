/**
 * DockerRuntime against the real Docker engine: the runtime contract (runtime.contract.ts), then what only
 * Docker shows: the locked-down host config the engine holds, and how DOCKER_HOST is reached.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { DockerRuntime } from './docker.ts';
import { CONTRACT_IMAGE, runRuntimeContract } from './runtime.contract.ts';
import { RuntimeError } from './runtime.ts';

const runtime = new DockerRuntime();
const runLabel = { 'boilerhouse.test': randomUUID().slice(0, 8) };

afterAll(async () => {
  for (const container of await runtime.list(runLabel)) await runtime.remove(container.id);
  runtime.close();
});

describe('the runtime contract', () => {
  runRuntimeContract({ runtime, defaultNetwork: 'bridge' });
});

describe('docker', () => {
  test('the engine holds the locked-down host config', async () => {
    const memoryBytes = 96 * 1024 * 1024;
    const id = await runtime.create({
      name: `bh-test-${runLabel['boilerhouse.test']}-config`,
      image: CONTRACT_IMAGE,
      entrypoint: ['node'],
      command: ['/app/server.cjs'],
      env: { GREETING: 'hello world' },
      labels: runLabel,
      user: '1000:1000',
      readOnlyRootfs: true,
      networkMode: 'bridge',
      limits: { cpus: 0.5, memoryBytes, pids: 64 },
      mounts: [],
      expose: [8080],
      publishHost: '127.0.0.1',
    });
    const raw = await runtime.engine.json<{
      Config: { Entrypoint: string[]; Cmd: string[]; User: string; Env: string[] };
      HostConfig: Record<string, unknown>;
    }>('GET', `/containers/${id}/json`);
    expect(raw.Config).toMatchObject({ Entrypoint: ['node'], Cmd: ['/app/server.cjs'], User: '1000:1000' });
    expect(raw.Config.Env).toContain('GREETING=hello world');
    expect(raw.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      NetworkMode: 'bridge',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      RestartPolicy: { Name: 'no' },
      NanoCpus: 500_000_000,
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      PidsLimit: 64,
      Init: false,
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    });
  });

  test('an unreachable DOCKER_HOST is a RuntimeError that names it', async () => {
    const bad = new DockerRuntime({ dockerHost: 'unix:///nonexistent.sock' });
    await expect(bad.ping()).rejects.toBeInstanceOf(RuntimeError);
    await expect(bad.ping()).rejects.toThrow(/unix:\/\/\/nonexistent\.sock/);

    vi.stubEnv('DOCKER_HOST', 'tcp://127.0.0.1:1');
    try {
      await expect(new DockerRuntime().ping()).rejects.toThrow(/tcp:\/\/127\.0\.0\.1:1 \(from DOCKER_HOST\)/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(() => new DockerRuntime({ dockerHost: 'ssh://somewhere' })).toThrow(RuntimeError);
  });
});
